// Quantity parsing: decimal vs binary prefixes, and rejection of unit-less or wrong-unit values.
#include <gtest/gtest.h>

#include "sim/base/diagnostics.h"
#include "sim/base/units.h"

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
}

TEST(Units, RejectsMissingWrongOrUnknownUnits) {
  EXPECT_FALSE(parse_quantity("13", Dimension::BytesPerSecond));
  EXPECT_FALSE(parse_quantity("13 GB", Dimension::BytesPerSecond));
  EXPECT_FALSE(parse_quantity("13 gb/s", Dimension::BytesPerSecond));
  EXPECT_FALSE(parse_quantity("-1 MHz", Dimension::Hertz));
  EXPECT_FALSE(parse_quantity("MHz", Dimension::Hertz));
  EXPECT_FALSE(parse_quantity("1e999 B", Dimension::Bytes));
}

TEST(Units, FormatsWithTheShorterOfDecimalAndBinaryUnits) {
  EXPECT_EQ(format_quantity(13e9, Dimension::BytesPerSecond), "13 GB/s");
  EXPECT_EQ(format_quantity(185856.0, Dimension::Bytes), "181.5 KiB");
  EXPECT_EQ(format_quantity(4194304.0, Dimension::Bytes), "4 MiB");
  EXPECT_EQ(format_quantity(181500.0, Dimension::Bytes), "181.5 KB");
  EXPECT_EQ(format_quantity(732421875.0, Dimension::Hertz), "732.422 MHz");
  EXPECT_EQ(format_quantity(1e-7, Dimension::Seconds), "100 ns");
  EXPECT_EQ(format_quantity(0, Dimension::Seconds), "0 s");
}

TEST(DidYouMean, SuggestsOnlyCloseWords) {
  EXPECT_EQ(did_you_mean("bandwith", {"bandwidth", "latency", "policy"}), "bandwidth");
  EXPECT_EQ(did_you_mean("colour", {"rows", "cols", "dataflow"}), "");
}

}  // namespace
}  // namespace bitsim
