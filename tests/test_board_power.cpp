// Board power meters (backends/include/hetmap/backend/power.hpp): INA3221 rails against fake
// sysfs trees of both L4T layouts (ina3221x iio, mainline hwmon) with an injected clock, and
// the external meter's sample stream: recorded files (energy between markers, each malformed
// case naming its line) and the live meter fed through a growing file and a FIFO; meters named
// with --power-meter in place of a backend's own.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "fixtures.hpp"
#include "hetmap/backend/backend.hpp"
#include "hetmap/backend/power.hpp"
#include "hetmap/platform.hpp"

namespace hetmap::backend {
namespace {

namespace fs = std::filesystem;

void write(const std::string& path, const std::string& text) {
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path) << text << "\n";
}

// The older driver: ROOT/bus/i2c/drivers/ina3221x/DEV/iio:deviceN/{rail_name_K, in_powerK_input}.
std::string iio(const std::string& root, const std::string& dev, int n) {
  return root + "/bus/i2c/drivers/ina3221x/" + dev + "/iio:device" + std::to_string(n);
}
void iio_rail(const std::string& dir, int ch, const std::string& name, int mw) {
  write(dir + "/rail_name_" + std::to_string(ch), name);
  write(dir + "/in_power" + std::to_string(ch) + "_input", std::to_string(mw));
}

// The hwmon driver: ROOT/class/hwmon/hwmonN/{name, inK_label, inK_input (mV), currK_input (mA)}.
std::string hwmon(const std::string& root, int n, const std::string& name) {
  const std::string d = root + "/class/hwmon/hwmon" + std::to_string(n);
  write(d + "/name", name);
  return d;
}
void hwmon_rail(const std::string& dir, int ch, const std::string& label, int mv, int ma) {
  const std::string k = std::to_string(ch);
  write(dir + "/in" + k + "_label", label);
  write(dir + "/in" + k + "_input", std::to_string(mv));
  write(dir + "/curr" + k + "_input", std::to_string(ma));
}

// A clock the test moves by hand.
struct FakeClock {
  std::shared_ptr<double> now = std::make_shared<double>(100.0);
  std::function<double()> fn() const {
    auto p = now;
    return [p] { return *p; };
  }
};

// ------------------------------------------------------------------------------------------
// INA3221

TEST(Ina3221, IioRailFoundByNameAndIntegratedByTrapezoids) {
  const std::string root = test::temp_dir();
  const std::string d = iio(root, "1-0040", 0);
  iio_rail(d, 0, "VDD_IN", 5000);
  iio_rail(d, 1, "VDD_GPU", 2000);  // 2 W
  iio_rail(d, 2, "VDD_CPU", 1000);
  FakeClock clock;
  std::string why = "stale";
  std::unique_ptr<PowerMeter> m = make_ina3221_meter("vdd_gpu", {1}, why, root, clock.fn());
  ASSERT_TRUE(m) << why;
  EXPECT_EQ(why, "");
  EXPECT_EQ(m->name(), "ina3221:VDD_GPU");
  EXPECT_EQ(m->processors(), std::vector<int>{1});
  EXPECT_NE(m->method().find("in_power1_input"), std::string::npos) << m->method();
  EXPECT_EQ(m->update_interval_s(), 0.0);
  EXPECT_DOUBLE_EQ(m->energy_j(), 0.0);  // no time has passed since the meter was made
  *clock.now += 0.5;                     // 2 W -> 2 W over 0.5 s: 1 J
  EXPECT_DOUBLE_EQ(m->energy_j(), 1.0);
  write(d + "/in_power1_input", "6000");
  *clock.now += 1.0;  // 2 W -> 6 W over 1 s: 4 J
  EXPECT_DOUBLE_EQ(m->energy_j(), 5.0);
  write(d + "/in_power1_input", "0");
  *clock.now += 0.25;  // 6 W -> 0 W over 0.25 s: 0.75 J
  EXPECT_DOUBLE_EQ(m->energy_j(), 5.75);
  EXPECT_DOUBLE_EQ(m->energy_j(), 5.75);  // same time: nothing added
}

TEST(Ina3221, HwmonRailIsVoltageTimesCurrent) {
  const std::string root = test::temp_dir();
  hwmon(root, 0, "acpitz");  // another sensor: ignored
  const std::string d = hwmon(root, 1, "ina3221");
  hwmon_rail(d, 1, "VDD_IN", 5000, 1000);
  hwmon_rail(d, 2, "VDD_CPU_GPU_CV", 5000, 400);  // 2 W
  hwmon_rail(d, 3, "VDD_SOC", 5000, 300);
  FakeClock clock;
  std::string why;
  std::unique_ptr<PowerMeter> m = make_ina3221_meter("VDD_CPU_GPU_CV", {0, 1}, why, root,
                                                     clock.fn());
  ASSERT_TRUE(m) << why;
  EXPECT_EQ(m->name(), "ina3221:VDD_CPU_GPU_CV");
  EXPECT_NE(m->method().find("in2_input"), std::string::npos) << m->method();
  *clock.now += 2.0;
  EXPECT_DOUBLE_EQ(m->energy_j(), 4.0);
  write(d + "/curr2_input", "800");  // 4 W
  *clock.now += 1.0;                 // 2 W -> 4 W: 3 J
  EXPECT_DOUBLE_EQ(m->energy_j(), 7.0);
}

TEST(Ina3221, TheDefaultClockIsRealTime) {
  const std::string root = test::temp_dir();
  iio_rail(iio(root, "0-0041", 1), 0, "VDD_SOC", 1000);
  std::string why;
  std::unique_ptr<PowerMeter> m = make_ina3221_meter("VDD_SOC", {0}, why, root);
  ASSERT_TRUE(m) << why;
  const double a = m->energy_j();
  usleep(20000);
  const double b = m->energy_j();
  EXPECT_GE(b - a, 0.018);  // 1 W over at least 20 ms
  EXPECT_LT(b - a, 2.0);
}

TEST(Ina3221, AMissingRailListsTheRailsFound) {
  const std::string root = test::temp_dir();
  const std::string d = iio(root, "1-0040", 0);
  iio_rail(d, 0, "VDD_IN", 5000);
  iio_rail(d, 1, "VDD_CPU", 1000);
  hwmon_rail(hwmon(root, 2, "ina3221"), 1, "VDD_SOC", 5000, 100);
  std::string why;
  EXPECT_FALSE(make_ina3221_meter("VDD_GPU", {1}, why, root));
  EXPECT_NE(why.find("no rail named 'VDD_GPU'"), std::string::npos) << why;
  EXPECT_NE(why.find("rails found: VDD_IN, VDD_CPU, VDD_SOC"), std::string::npos) << why;
  EXPECT_EQ(why.find('\n'), std::string::npos);

  EXPECT_FALSE(make_ina3221_meter("VDD_GPU", {1}, why, test::temp_dir()));
  EXPECT_NE(why.find("no INA3221 rail under"), std::string::npos) << why;
  EXPECT_NE(why.find("class/hwmon"), std::string::npos) << why;
}

TEST(Ina3221, AnUnreadableOrGarbledRailIsNotMeasured) {
  const std::string root = test::temp_dir();
  const std::string d = iio(root, "1-0040", 0);
  iio_rail(d, 0, "VDD_IN", 5000);
  iio_rail(d, 1, "VDD_GPU", 2000);
  fs::remove(d + "/in_power1_input");  // the name is there, the reading is not
  std::string why;
  EXPECT_FALSE(make_ina3221_meter("VDD_GPU", {1}, why, root));
  EXPECT_NE(why.find("rail 'VDD_GPU' is unreadable"), std::string::npos) << why;
  EXPECT_NE(why.find("in_power1_input"), std::string::npos) << why;

  write(d + "/in_power1_input", "n/a");
  EXPECT_FALSE(make_ina3221_meter("VDD_GPU", {1}, why, root));
  EXPECT_NE(why.find("expected an integer, got 'n/a'"), std::string::npos) << why;

  if (geteuid() != 0) {  // root reads anything
    write(d + "/in_power1_input", "2000");
    fs::permissions(d + "/in_power1_input", fs::perms::none);
    EXPECT_FALSE(make_ina3221_meter("VDD_GPU", {1}, why, root));
    EXPECT_NE(why.find("Permission denied"), std::string::npos) << why;
    fs::permissions(d + "/in_power1_input", fs::perms::owner_all);
  }

  // Two monitors naming the same rail: ambiguous.
  hwmon_rail(hwmon(root, 0, "ina3221"), 1, "VDD_IN", 5000, 100);
  EXPECT_FALSE(make_ina3221_meter("VDD_IN", {0}, why, root));
  EXPECT_NE(why.find("two monitors"), std::string::npos) << why;
}

TEST(Ina3221, AReadingThatFailsLaterThrows) {
  const std::string root = test::temp_dir();
  const std::string d = hwmon(root, 0, "ina3221");
  hwmon_rail(d, 1, "VDD_GPU", 5000, 100);
  FakeClock clock;
  std::string why;
  std::unique_ptr<PowerMeter> m = make_ina3221_meter("VDD_GPU", {1}, why, root, clock.fn());
  ASSERT_TRUE(m) << why;
  fs::remove(d + "/curr1_input");
  try {
    m->energy_j();
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("ina3221:VDD_GPU: "), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("curr1_input"), std::string::npos) << e.what();
  }
}

// ------------------------------------------------------------------------------------------
// External meter: recorded samples

TEST(SerialSamples, EnergyBetweenMarkersIsTheTrapezoidSum) {
  // Before the start marker: ignored. Between: 10.0 s 2 W, 10.5 s 4 W, 11.5 s 4 W, 12.0 s 0 W
  // -> 0.5*(2+4)/2 + 1.0*4 + 0.5*(4+0)/2 = 1.5 + 4 + 1 = 6.5 J over 2 s, 4 samples.
  const std::string path = test::write_file(test::temp_dir(), "run.csv",
                                            "# USB meter, 10 Hz\r\n"
                                            "9.5,100\r\n"
                                            "# start\r\n"
                                            "10.0,2\r\n"
                                            "10.5 4.0\r\n"
                                            "\r\n"
                                            "11.5, 4\r\n"
                                            "# a comment\r\n"
                                            "12.0\t0\r\n"
                                            "#stop\r\n"
                                            "12.5,100\r\n"
                                            "garbage after the stop marker is not read\r\n");
  const MarkedEnergy e = energy_between_markers(path);
  EXPECT_DOUBLE_EQ(e.joules, 6.5);
  EXPECT_DOUBLE_EQ(e.seconds, 2.0);
  EXPECT_EQ(e.samples, 4u);

  std::istringstream words("START\n0 1\n1e0 1\n3,3\nstop\n");
  const MarkedEnergy f = energy_between_markers(words);
  EXPECT_DOUBLE_EQ(f.joules, 1.0 + 4.0);
  EXPECT_DOUBLE_EQ(f.seconds, 3.0);
  EXPECT_EQ(f.samples, 3u);
}

// The error of energy_between_markers on `text`, "" if none.
std::string error_of(const std::string& text) {
  std::istringstream in(text);
  try {
    energy_between_markers(in, "rec.csv");
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(SerialSamples, EachMalformedCaseNamesItsLine) {
  EXPECT_EQ(error_of("# start\n0,1\n1,x\n# stop\n"),
            "rec.csv:3: power 'x' is not a number in '1,x' (expected 'T_SECONDS,WATTS' or "
            "'T_SECONDS WATTS')");
  EXPECT_EQ(error_of("# start\n0,1\n1,2,3\n# stop\n"),
            "rec.csv:3: expected 'T_SECONDS,WATTS' or 'T_SECONDS WATTS', got '1,2,3'");
  EXPECT_NE(error_of("# start\n0,1\n1\n# stop\n").find("rec.csv:3: missing power"),
            std::string::npos);
  EXPECT_NE(error_of("# start\n0,1\nbegin\n# stop\n").find("rec.csv:3: "), std::string::npos);
  EXPECT_NE(error_of("0,1\n# start\nnan,1\n# stop\n").find("rec.csv:3: time 'nan' is not finite"),
            std::string::npos);
  EXPECT_NE(error_of("# start\n0,1\n1,inf\n# stop\n").find("rec.csv:3: power 'inf' is not finite"),
            std::string::npos);
  EXPECT_NE(error_of("# start\n0,1\n1,-2\n# stop\n").find("rec.csv:3: negative power"),
            std::string::npos);
  EXPECT_EQ(error_of("# start\n0,1\n2,1\n\n1.5,1\n# stop\n"),
            "rec.csv:5: time goes backwards (1.5 s after 2 s)");
  EXPECT_EQ(error_of("5,1\n# start\n4,1\n6,1\n# stop\n"),
            "rec.csv:3: time goes backwards (4 s after 5 s)");
  EXPECT_EQ(error_of("0,1\n1,1\n"), "rec.csv: no start marker ('# start' or 'START')");
  EXPECT_EQ(error_of("0,1\n# start\n1,1\n2,1\n"),
            "rec.csv: the start marker at line 2 has no stop marker ('# stop' or 'STOP') after it");
  EXPECT_EQ(error_of("0,1\nSTOP\n"), "rec.csv:2: a stop marker before any start marker");
  EXPECT_EQ(error_of("# start\n0,1\n# start\n1,1\n# stop\n"),
            "rec.csv:3: a second start marker (the first is at line 1, with no stop between)");
  EXPECT_EQ(error_of("# start\n0,1\n# stop\n"),
            "rec.csv:3: 1 sample between the start marker (line 1) and the stop marker: at least "
            "2 are needed");
  EXPECT_EQ(error_of("# start\n0,1\n1,1\n# stop\n"), "");

  try {
    energy_between_markers(test::temp_dir() + "/absent.csv");
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("absent.csv: cannot open"), std::string::npos);
  }
  // A file names itself in the errors.
  const std::string bad = test::write_file(test::temp_dir(), "bad.csv", "# start\n0;1\n");
  try {
    energy_between_markers(bad);
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()).rfind(bad + ":2: ", 0), 0u) << e.what();
  }
}

// ------------------------------------------------------------------------------------------
// External meter: live

void append(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::app) << text;
}

TEST(SerialMeter, AGrowingFileIsIntegratedAsLinesArrive) {
  const std::string path = test::temp_dir() + "/tty.log";
  append(path, "");
  std::string why = "stale";
  std::unique_ptr<PowerMeter> m = make_serial_meter(path, {0, 1}, why);
  ASSERT_TRUE(m) << why;
  EXPECT_EQ(why, "");
  EXPECT_EQ(m->name(), "serial:" + path);
  EXPECT_EQ(m->processors(), (std::vector<int>{0, 1}));
  EXPECT_DOUBLE_EQ(m->energy_j(), 0.0);
  EXPECT_EQ(m->update_interval_s(), 0.0);
  append(path, "# start\n1.0,3\n1.5,3\n2.0,");  // the last line is not complete yet
  EXPECT_DOUBLE_EQ(m->energy_j(), 1.5);
  append(path, "5\r\n3.0 5\n");  // 1.5 -> 2.0: 4 W mean, 2.0 -> 3.0: 5 W
  EXPECT_DOUBLE_EQ(m->energy_j(), 1.5 + 2.0 + 5.0);
  EXPECT_DOUBLE_EQ(m->update_interval_s(), 2.0 / 3.0);
  EXPECT_DOUBLE_EQ(m->energy_j(), 8.5);  // nothing new
  append(path, "2.5,1\n");
  try {
    m->energy_j();
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()),
              "serial:" + path + ": " + path + ":6: time goes backwards (2.5 s after 3 s)");
  }
}

TEST(SerialMeter, AMalformedLineThrowsWithItsLine) {
  const std::string path = test::write_file(test::temp_dir(), "tty.log", "0,1\nhello\n");
  std::string why;
  std::unique_ptr<PowerMeter> m = make_serial_meter(path, {0}, why);
  ASSERT_TRUE(m) << why;
  try {
    m->energy_j();
    FAIL() << "no error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(path + ":2: "), std::string::npos) << e.what();
  }
}

TEST(SerialMeter, AFifoFedByAWriter) {
  const std::string path = test::temp_dir() + "/meter.fifo";
  ASSERT_EQ(mkfifo(path.c_str(), 0600), 0);
  std::string why;
  std::unique_ptr<PowerMeter> m = make_serial_meter(path, {0}, why);  // no writer yet
  ASSERT_TRUE(m) << why;
  EXPECT_DOUBLE_EQ(m->energy_j(), 0.0);
  const int w = ::open(path.c_str(), O_WRONLY | O_NONBLOCK);
  ASSERT_GE(w, 0);
  EXPECT_DOUBLE_EQ(m->energy_j(), 0.0);  // a writer but no data: does not block
  const std::string a = "0.0,10\n0.1,10\n0.2,";
  ASSERT_EQ(::write(w, a.data(), a.size()), static_cast<ssize_t>(a.size()));
  EXPECT_NEAR(m->energy_j(), 1.0, 1e-12);
  const std::string b = "20\nSTOP\n";
  ASSERT_EQ(::write(w, b.data(), b.size()), static_cast<ssize_t>(b.size()));
  EXPECT_NEAR(m->energy_j(), 2.5, 1e-12);  // + 0.1 s at 15 W
  ::close(w);
  EXPECT_NEAR(m->energy_j(), 2.5, 1e-12);  // the writer has gone: no more, no error
}

TEST(SerialMeter, AnAbsentPortSaysWhy) {
  std::string why;
  EXPECT_FALSE(make_serial_meter(test::temp_dir() + "/ttyUSB9", {0}, why));
  EXPECT_NE(why.find("serial: "), std::string::npos) << why;
  EXPECT_NE(why.find("No such file or directory"), std::string::npos) << why;
}

TEST(SerialMeter, TheSamplerReadsIt) {
  const std::string path = test::write_file(test::temp_dir(), "tty.log", "0,4\n");
  std::string why;
  std::unique_ptr<PowerMeter> m = make_serial_meter(path, {0}, why);
  ASSERT_TRUE(m) << why;
  PowerSampler sampler({m.get()}, std::chrono::milliseconds(5));
  sampler.start();
  append(path, "1,4\n2,4\n");
  usleep(30000);
  const PowerWindow win = sampler.stop();
  ASSERT_TRUE(win.ok()) << win.meters[0].error;
  EXPECT_DOUBLE_EQ(win.energy_j(), 8.0);
}

// ------------------------------------------------------------------------------------------
// --power-meter: board meters in place of a backend's own

Platform board() {
  return parse_platform(
      "name: b\nhost: big\nprocessors:\n  - {name: big, kind: cpu}\n"
      "  - {name: little, kind: cpu}\n  - {name: gpu, kind: gpu}\n",
      "b.yaml");
}

// A meter that covers some processors and reads nothing (the backend's default meter).
class StubMeter : public PowerMeter {
 public:
  explicit StubMeter(std::vector<int> ps) : ps_(std::move(ps)) {}
  std::string name() const override { return "rapl:stub"; }
  const std::vector<int>& processors() const override { return ps_; }
  double energy_j() override { return 0.0; }
  std::string method() const override { return "stub"; }

 private:
  std::vector<int> ps_;
};

TEST(MeterSpec, ParsesKindTargetAndProcessors) {
  const Platform p = board();
  const MeterSpec a = parse_meter_spec("ina3221:VDD_CPU_GPU_CV@big+little+gpu", p);
  EXPECT_EQ(a.kind, "ina3221");
  EXPECT_EQ(a.target, "VDD_CPU_GPU_CV");
  EXPECT_EQ(a.processors, (std::vector<int>{0, 1, 2}));
  const MeterSpec b = parse_meter_spec("serial:/dev/serial/by-id/usb-x:1@gpu", p);
  EXPECT_EQ(b.target, "/dev/serial/by-id/usb-x:1");  // ':' and '@' only split where they must
  EXPECT_EQ(b.processors, (std::vector<int>{2}));
}

TEST(MeterSpec, BadSpecsAreInputErrorsNamingTheOption) {
  const Platform p = board();
  for (const char* bad : {"ina3221:VDD_IN", "nvml:0@gpu", "serial:@gpu", "ina3221:VDD_IN@npu",
                          "ina3221:VDD_IN@big+big", "VDD_IN@big"}) {
    try {
      parse_meter_spec(bad, p);
      FAIL() << bad << " was accepted";
    } catch (const InputError& e) {
      EXPECT_EQ(e.exit_code(), kBadInput);
      EXPECT_NE(std::string(e.what()).find(std::string("--power-meter ") + bad), std::string::npos)
          << e.what();
    }
  }
}

TEST(MeterSpec, ANamedMeterReplacesTheDefaultMeterCoveringItsProcessors) {
  const Platform p = board();
  const std::string root = test::temp_dir();
  hwmon_rail(hwmon(root, 0, "ina3221"), 1, "VDD_CPU", 5000, 100);
  PowerMeters defaults;
  defaults.add(std::make_unique<StubMeter>(std::vector<int>{0, 1}));
  defaults.unmeasured({2}, "no meter for the gpu");
  const PowerMeters m =
      with_meter_specs(std::move(defaults), {parse_meter_spec("ina3221:VDD_CPU@big", p)}, root);
  ASSERT_EQ(m.meters.size(), 1u);
  EXPECT_NE(m.meters[0]->name().find("VDD_CPU"), std::string::npos) << m.meters[0]->name();
  EXPECT_TRUE(m.covers(0));
  // little shared the replaced meter's domain: not measured, and the reason says so.
  EXPECT_FALSE(m.covers(1));
  EXPECT_NE(m.why_not(1).find("rapl:stub"), std::string::npos) << m.why_not(1);
  EXPECT_EQ(m.why_not(2), "no meter for the gpu");
}

TEST(MeterSpec, AMeterThatCannotBeOpenedIsAnError) {
  const Platform p = board();
  try {
    with_meter_specs(PowerMeters{}, {parse_meter_spec("serial:/nonexistent/tty@gpu", p)});
    FAIL() << "a missing serial device was accepted";
  } catch (const BackendError& e) {
    EXPECT_NE(std::string(e.what()).find("--power-meter serial:/nonexistent/tty@gpu"),
              std::string::npos)
        << e.what();
  }
  EXPECT_THROW(with_meter_specs(PowerMeters{}, {parse_meter_spec("serial:/a@gpu", p),
                                                parse_meter_spec("serial:/b@gpu", p)}),
               InputError);
}

}  // namespace
}  // namespace hetmap::backend
