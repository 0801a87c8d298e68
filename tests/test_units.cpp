// The base library's text handling: quantities (decimal vs binary prefixes, unit-less or wrong-unit
// values refused), whole-field numbers, CSV lines with quoting and columns, name tables.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <chrono>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "sim/base/checked.h"
#include "sim/base/diagnostics.h"
#include "sim/base/names.h"
#include "sim/base/parallel.h"
#include "sim/base/text.h"
#include "sim/base/units.h"
#include "sim/base/yaml_fields.h"
#include "tests/test_util.h"

namespace bitsim {
namespace {

TEST(Units, DecimalAndBinaryPrefixesDiffer) {
  EXPECT_DOUBLE_EQ(*parse_quantity("181.5 KB", Dimension::Bytes), 181500.0);
  EXPECT_DOUBLE_EQ(*parse_quantity("181.5 KiB", Dimension::Bytes), 185856.0);
  EXPECT_DOUBLE_EQ(*parse_quantity("28 MB", Dimension::Bytes), 28e6);
  EXPECT_DOUBLE_EQ(*parse_quantity("4 MiB", Dimension::Bytes), 4194304.0);
  EXPECT_DOUBLE_EQ(*parse_quantity("13 GB/s", Dimension::BytesPerSecond), 13e9);
  EXPECT_DOUBLE_EQ(*parse_quantity("1GiB/s", Dimension::BytesPerSecond), 1073741824.0);
  EXPECT_DOUBLE_EQ(*parse_quantity("700 MHz", Dimension::Hertz), 700e6);
  EXPECT_DOUBLE_EQ(*parse_quantity("100 ns", Dimension::Seconds), 100e-9);
  EXPECT_DOUBLE_EQ(*parse_quantity("0.2 pJ", Dimension::Joules), 0.2e-12);
  EXPECT_DOUBLE_EQ(*parse_quantity("1.3 nJ", Dimension::Joules), 1.3e-9);
  EXPECT_DOUBLE_EQ(*parse_quantity("282 um2", Dimension::SquareMeters), 282e-12);
  EXPECT_DOUBLE_EQ(*parse_quantity("1.5 mm2", Dimension::SquareMeters), 1.5e-6);
  EXPECT_FALSE(parse_quantity("282 um", Dimension::SquareMeters));
  EXPECT_FALSE(parse_quantity("0.2 pj", Dimension::Joules));
}

TEST(Units, RejectsMissingWrongOrUnknownUnits) {
  EXPECT_FALSE(parse_quantity("13", Dimension::BytesPerSecond));
  EXPECT_FALSE(parse_quantity("13 GB", Dimension::BytesPerSecond));
  EXPECT_FALSE(parse_quantity("13 gb/s", Dimension::BytesPerSecond));
  EXPECT_FALSE(parse_quantity("-1 MHz", Dimension::Hertz));
  EXPECT_FALSE(parse_quantity("MHz", Dimension::Hertz));
  EXPECT_FALSE(parse_quantity("1e999 B", Dimension::Bytes));
  // A finite number whose unit makes it overflow (the campaign's 1e308 GB/s became "unlimited").
  EXPECT_FALSE(parse_quantity("1e308 GB/s", Dimension::BytesPerSecond));
  EXPECT_TRUE(parse_quantity("1e308 B/s", Dimension::BytesPerSecond));
}

TEST(Units, FormatsWithTheShorterOfDecimalAndBinaryUnits) {
  EXPECT_EQ(format_quantity(13e9, Dimension::BytesPerSecond), "13 GB/s");
  EXPECT_EQ(format_quantity(185856.0, Dimension::Bytes), "181.5 KiB");
  EXPECT_EQ(format_quantity(4194304.0, Dimension::Bytes), "4 MiB");
  EXPECT_EQ(format_quantity(181500.0, Dimension::Bytes), "181.5 KB");
  // Six digits only where they read back exactly (resolved configs are written out and read back).
  EXPECT_EQ(format_quantity(732421875.0, Dimension::Hertz), "732.421875 MHz");
  EXPECT_EQ(format_quantity(100 * 1e-9, Dimension::Seconds), "100 ns");
  EXPECT_EQ(format_quantity(1e-7, Dimension::Seconds), "0.1 us");  // 100 x 1e-9 is not 1e-7
  EXPECT_EQ(format_quantity(0, Dimension::Seconds), "0 s");
  EXPECT_EQ(format_quantity(1.3e-9 / 64, Dimension::Joules), "20.3125 pJ");
  EXPECT_EQ(format_quantity(0.009e-12, Dimension::Joules), "0.009 pJ");  // 9 x 1e-15 is another double
  EXPECT_EQ(format_quantity(9 * 1e-15, Dimension::Joules), "9 fJ");
  EXPECT_EQ(format_quantity(282e-12, Dimension::SquareMeters), "282 um2");
  EXPECT_EQ(format_quantity(0.346e-12, Dimension::SquareMeters), "0.346 um2");
}

TEST(Units, FormattedQuantitiesReadBackExactly) {
  for (const double v : {1.2345678901234e9, 1.0 / 3.0, 0.1 + 0.2, 1e-300, 1e300, 123456789012345678.0, 0.0})
    for (const Dimension d : {Dimension::Bytes, Dimension::BytesPerSecond, Dimension::Hertz, Dimension::Seconds,
                              Dimension::Joules, Dimension::SquareMeters})
      EXPECT_EQ(parse_quantity(format_quantity(v, d), d), v) << format_quantity(v, d);
}

TEST(DidYouMean, SuggestsOnlyCloseWords) {
  EXPECT_EQ(did_you_mean("bandwith", {"bandwidth", "latency", "policy"}), "bandwidth");
  EXPECT_EQ(did_you_mean("colour", {"rows", "cols", "dataflow"}), "");
}

TEST(Text, NumbersMustBeTheWholeField) {
  EXPECT_EQ(parse_integer("42"), 42);
  EXPECT_EQ(parse_integer("-7"), -7);
  EXPECT_FALSE(parse_integer("12abc"));
  EXPECT_FALSE(parse_integer(" 12"));
  EXPECT_FALSE(parse_integer(""));
  EXPECT_FALSE(parse_integer("99999999999999999999"));  // overflow, not a wrapped value
  EXPECT_EQ(parse_number("2.5e3"), 2500.0);
  EXPECT_FALSE(parse_number("1e999"));
  EXPECT_FALSE(parse_number("nan"));
  EXPECT_FALSE(parse_number("inf"));
  EXPECT_FALSE(parse_number("3 bits"));
  EXPECT_EQ(trim(" \t a b \r"), "a b");
  EXPECT_EQ(trim("  "), "");
}

std::vector<std::pair<std::string, int>> fields(const CsvLine& line) {
  std::vector<std::pair<std::string, int>> out;
  for (const CsvField& f : line.fields) out.emplace_back(f.text, f.col);
  return out;
}

TEST(Checked, OverflowIsEmptyNotWrapped) {
  EXPECT_EQ(checked_mul<std::size_t>(65536, 65536), std::optional<std::size_t>(4294967296u));
  // 65536^4 = 2^64 wraps to 0 in plain size_t arithmetic; an empty operand stays empty.
  EXPECT_EQ(checked_mul(checked_mul<std::size_t>(4294967296u, 65536), std::size_t{65536}), std::nullopt);
  EXPECT_EQ(checked_mul(std::optional<std::size_t>(), std::size_t{1}), std::nullopt);
  EXPECT_EQ(checked_add<std::int64_t>(INT64_MAX, 1), std::nullopt);
  EXPECT_EQ(checked_add<std::int64_t>(INT64_MAX - 1, 1), std::optional<std::int64_t>(INT64_MAX));
}

TEST(Yaml, ShortenQuotesOneLineOfAtMost60Bytes) {
  EXPECT_EQ(yaml::shorten("short"), "short");
  EXPECT_EQ(yaml::shorten(std::string(60, 'x')), std::string(60, 'x'));
  EXPECT_EQ(yaml::shorten(std::string(61, 'x')), std::string(60, 'x') + "...");
  EXPECT_EQ(yaml::shorten("first line\nsecond"), "first line...");
  // Never half a UTF-8 character: "é" is 2 bytes, the 60th byte is its first.
  EXPECT_EQ(yaml::shorten(std::string(59, 'x') + "\xc3\xa9yz"), std::string(59, 'x') + "...");
}

TEST(Yaml, DuplicateKeyCheckVisitsAliasedNodesOnce) {
  // Each list holds the previous one twice: 2^40 paths through the tree, 41 lists in the file.
  std::string text = "l0: &l0 [1, 1]\n";
  for (int i = 1; i <= 40; ++i) text += fmt::format("l{}: &l{} [*l{}, *l{}]\n", i, i, i - 1, i - 1);
  EXPECT_TRUE(yaml::load_file(testing::write_temp("aliases.yaml", text)).IsMap());
}

TEST(Text, CsvFieldsKeepTheirColumns) {
  using F = std::vector<std::pair<std::string, int>>;
  EXPECT_EQ(fields(split_csv_line("a, bc ,,d\r")), (F{{"a", 1}, {"bc", 4}, {"", 8}, {"d", 9}}));
  // Quotes: commas and doubled quotes inside, blanks kept, the column is the opening quote's.
  EXPECT_EQ(fields(split_csv_line("x, \" a,\"\"b\"\" \" ,y")), (F{{"x", 1}, {" a,\"b\" ", 4}, {"y", 17}}));
  EXPECT_EQ(fields(split_csv_line("\"\"")), (F{{"", 1}}));
  const CsvLine open = split_csv_line("a,\"bc");
  ASSERT_TRUE(open.error);
  EXPECT_EQ(open.error->first, 3);
  const CsvLine after = split_csv_line("\"a\"b,c");
  ASSERT_TRUE(after.error);
  EXPECT_EQ(after.error->first, 4);
  // Literal quotes: SCALE-Sim's plain split.
  EXPECT_EQ(fields(split_csv_line("\"a,b\",", CsvQuotes::Literal)), (F{{"\"a", 1}, {"b\"", 4}, {"", 7}}));
}

enum class Colour { Red, Green, Blue };
constexpr NameTable kColours{std::array{NamedValue<Colour>{Colour::Red, "red"},
                                        NamedValue<Colour>{Colour::Green, "green"},
                                        NamedValue<Colour>{Colour::Blue, "blue"}}};
static_assert(kColours.complete());
static_assert(!NameTable{std::array{NamedValue<Colour>{Colour::Red, "red"}, NamedValue<Colour>{Colour::Red, "green"},
                                    NamedValue<Colour>{Colour::Blue, "blue"}}}
                   .complete());

TEST(Names, OneTableNamesParsesAndLists) {
  EXPECT_EQ(kColours.name(Colour::Green), "green");
  EXPECT_EQ(kColours.find("blue"), Colour::Blue);
  EXPECT_FALSE(kColours.find("Blue"));
  EXPECT_EQ(kColours.alternatives(), "red, green or blue");
  EXPECT_EQ(kColours.choices(), "red | green | blue");
  EXPECT_EQ(kColours.names(), (std::vector<std::string>{"red", "green", "blue"}));
}

TEST(ParallelFor, EveryIndexOnceAndProgressInOrder) {
  for (int threads : {1, 2, 7}) {
    std::vector<int> hits(100, 0);
    std::atomic<int> workers{0};
    std::vector<std::size_t> reports;
    parallel_for(
        hits.size(), threads,
        [&] {
          ++workers;
          return [&](std::size_t i) { ++hits[i]; };
        },
        [&](std::size_t done, std::size_t count) {
          EXPECT_EQ(count, 100u);
          reports.push_back(done);
        });
    EXPECT_EQ(hits, std::vector<int>(100, 1)) << threads << " threads";
    EXPECT_EQ(workers, threads);
    ASSERT_EQ(reports.size(), 100u);
    for (std::size_t k = 0; k < reports.size(); ++k) EXPECT_EQ(reports[k], k + 1);
  }
  // More threads than indices: only as many workers as indices; none at all for no work.
  std::atomic<int> workers{0};
  parallel_for(2, 8, [&] {
    ++workers;
    return [](std::size_t) {};
  });
  EXPECT_EQ(workers, 2);
  parallel_for(0, 8, [&]() -> std::function<void(std::size_t)> { throw std::logic_error("never called"); });
}

TEST(ParallelFor, AWorkersExceptionReachesTheCaller) {
  // An input error in one worker's index arrives as that InputError (not std::terminate), after
  // every thread has joined; the other workers stop taking new indices.
  // Indices after the bad one wait until it has thrown and then take 1 ms, so that a loaded machine
  // that deschedules the throwing thread cannot let the other finish all 1000 first (it did once).
  std::atomic<int> ran{0};
  std::atomic<bool> thrown{false};
  try {
    parallel_for(1000, 2, [&] {
      return [&](std::size_t i) {
        ++ran;
        if (i == 10) {
          thrown = true;
          throw InputError({"f.yaml", 3, 4}, "bad value");
        }
        if (i > 10) {
          while (!thrown) std::this_thread::yield();
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
      };
    });
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "f.yaml:3:4: error: bad value");
  }
  EXPECT_LT(ran, 1000);
  // So does an exception thrown while a worker is set up.
  EXPECT_THROW(parallel_for(4, 2, []() -> std::function<void(std::size_t)> { throw std::runtime_error("setup"); }),
               std::runtime_error);
}

}  // namespace
}  // namespace bitsim
