// OData query options as Graph uses them on collections, parsed without any I/O:
// `$filter` (eq, ne, startswith, and, or, not-free grammar with parentheses) compiled to a SQL
// WHERE fragment with bound parameters, `$select`, `$top`, `$count` and an opaque `$skiptoken`.
// Untrusted input: every failure is a 400 Error whose message says what was wrong.
#pragma once

#include "common/result.h"
#include "store/db.h"

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace reach::hub::odata {

struct Field {
  std::string name;                      // property name as Graph spells it
  std::string column;                    // SQL expression it maps to
  std::vector<std::string> enum_values;  // empty: free text; else the literal must be one of these
  // startswith() as a range an index can serve: a condition with two parameters, the prefix in
  // lower case and its upper bound ("lower(d.device_name) >= ? AND lower(d.device_name) < ?"),
  // which makes the match case-insensitive (ASCII, as SQL's lower()). Empty: an exact-case
  // comparison of the leading characters.
  std::string prefix_range = {};
};

struct SqlFilter {
  std::string where;  // "" when there is no filter; else a parenthesised boolean expression
  store::Params params;
};

// Compiles `filter` against the allowed fields.
Result<SqlFilter> compile_filter(std::string_view filter, const std::vector<Field>& fields);

struct Query {
  std::optional<std::string> filter;
  std::vector<std::string> select;  // empty: every property
  int top = 1000;
  bool count = false;
  std::optional<std::string> skiptoken;  // the decoded position (last id of the previous page)
  // $orderby: one property, ascending unless " desc" follows; the caller checks the name.
  std::optional<std::string> orderby;
  bool descending = false;
};

// Reads the query options of a collection request. `dollar_optional` accepts `filter` for
// `$filter` (the beta endpoint does). Unknown `$` options are refused; `allowed_select` lists the
// properties $select may name; `$orderby` is refused unless `orderby_allowed`.
Result<Query> parse_query(const std::vector<std::pair<std::string, std::string>>& query,
                          bool dollar_optional, const std::vector<std::string>& allowed_select,
                          int max_top = 1000, bool orderby_allowed = false);

// Opaque continuation tokens: base64url of "v1:" + the last id, so a client cannot forge
// positions other than ids.
std::string encode_skiptoken(std::string_view last_id);
Result<std::string> decode_skiptoken(std::string_view token);

}  // namespace reach::hub::odata
