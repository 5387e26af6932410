#pragma once
// A value of a JSON document hetmap reads back (a search checkpoint, docs/search.md,
// "Checkpoints"), with its path in the document. Every accessor checks the value's type and
// range and throws InputError naming the file and the path, so that a damaged or edited file
// gives `ck.json: population[3].config.proc[17]: expected an integer in 0..255, got 300`
// (docs/reliability.md) rather than a raw library exception or a silently wrapped number.
#include <cstddef>
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

namespace hetmap::dse {

class JsonField {
 public:
  /// The document's root (path ""); `value` and `file` must outlive every field read from it.
  JsonField(const nlohmann::json& value, const std::string& file);

  const nlohmann::json& json() const { return *value_; }
  /// "population[3].config.proc", "" for the root.
  const std::string& path() const { return path_; }

  bool is_object() const { return value_->is_object(); }
  bool has(const std::string& key) const { return is_object() && value_->contains(key); }
  /// The member `key` of an object (an InputError if this is no object or lacks the key).
  JsonField at(const std::string& key) const;
  /// The number of elements of an array (an InputError if this is no array).
  std::size_t size() const;
  /// Element `i` of an array (i < size()).
  JsonField item(std::size_t i) const;

  /// An integer in lo..hi (a number with a fraction, or out of range, is an InputError).
  std::int64_t integer(std::int64_t lo, std::int64_t hi) const;
  /// A finite number.
  double number() const;
  /// A finite number, or null for +infinity (how checkpoints store an infeasible point's values).
  double number_or_infinity() const;
  bool boolean() const;
  std::string text() const;

  /// Throws InputError naming the file and this field: `FILE: PATH: message`.
  [[noreturn]] void fail(const std::string& message) const;
  /// The same for a part of this field that `detail` names first, as a path relative to it
  /// ("proc[17]: processor index 9 out of range 0..2" on population[3].config gives
  /// `population[3].config.proc[17]: ...`).
  [[noreturn]] void fail_within(const std::string& detail) const;

 private:
  JsonField(const nlohmann::json& value, const std::string& file, std::string path);
  /// The value as a short text for messages (long ones cut).
  std::string shown() const;

  const nlohmann::json* value_;
  const std::string* file_;
  std::string path_;
};

}  // namespace hetmap::dse
