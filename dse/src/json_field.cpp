#include "hetmap/dse/json_field.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "hetmap/error.hpp"

namespace hetmap::dse {

JsonField::JsonField(const nlohmann::json& value, const std::string& file)
    : JsonField(value, file, "") {}

JsonField::JsonField(const nlohmann::json& value, const std::string& file, std::string path)
    : value_(&value), file_(&file), path_(std::move(path)) {}

void JsonField::fail(const std::string& message) const {
  throw InputError(*file_, 0, path_.empty() ? message : path_ + ": " + message);
}

void JsonField::fail_within(const std::string& detail) const {
  throw InputError(*file_, 0, path_.empty() ? detail : path_ + "." + detail);
}

std::string JsonField::shown() const {
  constexpr std::size_t kLongest = 40;
  std::string text = value_->dump();
  if (text.size() > kLongest) text = text.substr(0, kLongest) + "...";
  return text;
}

JsonField JsonField::at(const std::string& key) const {
  if (!is_object()) fail("expected an object with the key '" + key + "', got " + shown());
  const auto it = value_->find(key);
  if (it == value_->end()) fail("missing the key '" + key + "'");
  return JsonField(*it, *file_, path_.empty() ? key : path_ + "." + key);
}

std::size_t JsonField::size() const {
  if (!value_->is_array()) fail("expected an array, got " + shown());
  return value_->size();
}

JsonField JsonField::item(std::size_t i) const {
  return JsonField((*value_)[i], *file_, fmt::format("{}[{}]", path_, i));
}

std::int64_t JsonField::integer(std::int64_t lo, std::int64_t hi) const {
  // nlohmann keeps integers exactly (signed or unsigned); get<> of a float or of an integer out
  // of the target's range would truncate or wrap instead.
  bool ok = false;
  std::int64_t v = 0;
  if (value_->is_number_unsigned()) {
    const std::uint64_t u = value_->get<std::uint64_t>();
    ok = u <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    v = static_cast<std::int64_t>(u);
  } else if (value_->is_number_integer()) {
    ok = true;
    v = value_->get<std::int64_t>();
  }
  if (!ok || v < lo || v > hi) fail(fmt::format("expected an integer in {}..{}, got {}", lo, hi, shown()));
  return v;
}

double JsonField::number() const {
  // The parser reads 1e400 as infinity: a number, but not one a checkpoint holds.
  if (!value_->is_number() || !std::isfinite(value_->get<double>()))
    fail("expected a finite number, got " + shown());
  return value_->get<double>();
}

double JsonField::number_or_infinity() const {
  if (value_->is_null()) return std::numeric_limits<double>::infinity();
  if (!value_->is_number() || !std::isfinite(value_->get<double>()))
    fail("expected a finite number or null (infinity), got " + shown());
  return value_->get<double>();
}

bool JsonField::boolean() const {
  if (!value_->is_boolean()) fail("expected true or false, got " + shown());
  return value_->get<bool>();
}

std::string JsonField::text() const {
  if (!value_->is_string()) fail("expected a string, got " + shown());
  return value_->get<std::string>();
}

}  // namespace hetmap::dse
