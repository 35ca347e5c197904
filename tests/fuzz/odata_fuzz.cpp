// Fuzz target: a collection request's query string as the hub reads it: OData options
// ($filter compiled to SQL with bound parameters, $select, $top, $count, $skiptoken). A compiled
// filter must bind exactly as many parameters as it has placeholders, and never carry input
// text into the SQL itself.
#include "hub/odata.h"
#include "net/http.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace reach;
  using namespace reach::hub;
  if (size == 0) return 0;
  std::string_view in(reinterpret_cast<const char*>(data + 1), size - 1);
  static const std::vector<odata::Field> kFields = {
      {"deviceName", "d.device_name", {}},
      {"operatingSystem", "d.operating_system", {}},
      {"complianceState", "d.compliance_state", {"unknown", "compliant", "noncompliant"}},
      {"userId", "d.user_id", {}},
  };
  static const std::vector<std::string> kSelect = {"id", "deviceName", "operatingSystem"};
  auto q = odata::parse_query(net::parse_query(in), (data[0] & 1) != 0, kSelect, 1000);
  if (q && (q->top < 1 || q->top > 1000)) __builtin_trap();
  std::string filter = q && q->filter ? *q->filter : std::string(in);
  if (auto f = odata::compile_filter(filter, kFields)) {
    auto marks = static_cast<std::size_t>(std::count(f->where.begin(), f->where.end(), '?'));
    if (marks != f->params.size()) __builtin_trap();
    if (f->where.find('\'') != std::string::npos || f->where.find(';') != std::string::npos)
      __builtin_trap();
  }
  if (auto pos = odata::decode_skiptoken(in)) {
    auto again = odata::decode_skiptoken(odata::encode_skiptoken(*pos));
    if (!again || *again != *pos) __builtin_trap();
  }
  return 0;
}
