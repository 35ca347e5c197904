#include "hub/odata.h"

#include "common/crypto.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace reach::hub::odata {
namespace {

enum class Tok { ident, string, lparen, rparen, comma, end };

struct Token {
  Tok kind;
  std::string text;
  std::size_t pos;
};

Result<std::vector<Token>> lex(std::string_view s) {
  std::vector<Token> out;
  std::size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == ' ' || c == '\t') {
      ++i;
    } else if (c == '(') {
      out.push_back({Tok::lparen, "(", i++});
    } else if (c == ')') {
      out.push_back({Tok::rparen, ")", i++});
    } else if (c == ',') {
      out.push_back({Tok::comma, ",", i++});
    } else if (c == '\'') {
      std::size_t start = i++;
      std::string text;
      for (;;) {
        if (i >= s.size())
          return bad_request(fmt::format("Invalid $filter: unterminated string at {}.", start));
        if (s[i] == '\'') {
          if (i + 1 < s.size() && s[i + 1] == '\'') {  // '' is an escaped quote
            text += '\'';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        text += s[i++];
      }
      out.push_back({Tok::string, std::move(text), start});
    } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.') {
      std::size_t start = i;
      // A '/' continues a name: a property of a complex property ("actor/name").
      while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '_' ||
                              s[i] == '-' || s[i] == '.' || s[i] == '/'))
        ++i;
      out.push_back({Tok::ident, std::string(s.substr(start, i - start)), start});
    } else {
      return bad_request(fmt::format("Invalid $filter: unexpected character '{}' at {}.", c, i));
    }
  }
  out.push_back({Tok::end, "", s.size()});
  return out;
}

class Parser {
 public:
  Parser(std::vector<Token> toks, const std::vector<Field>& fields)
      : toks_(std::move(toks)), fields_(fields) {}

  Result<SqlFilter> run() {
    auto e = parse_or(0);
    if (!e) return e.error();
    if (peek().kind != Tok::end)
      return fail(fmt::format("unexpected '{}' at {}", peek().text, peek().pos));
    return SqlFilter{"(" + *e + ")", std::move(params_)};
  }

 private:
  static constexpr int kMaxDepth = 32;

  const Token& peek() const { return toks_[i_]; }
  const Token& next() { return toks_[i_++]; }
  bool is_word(const Token& t, std::string_view w) const {
    if (t.kind != Tok::ident || t.text.size() != w.size()) return false;
    for (std::size_t k = 0; k < w.size(); ++k)
      if (std::tolower(static_cast<unsigned char>(t.text[k])) != w[k]) return false;
    return true;
  }
  Error fail(std::string what) const { return bad_request("Invalid $filter: " + what + "."); }

  Result<std::string> parse_or(int depth) {
    if (depth > kMaxDepth) return fail("expression nested too deeply");
    auto left = parse_and(depth);
    if (!left) return left;
    std::string out = *left;
    while (is_word(peek(), "or")) {
      next();
      auto right = parse_and(depth);
      if (!right) return right;
      out = out + " OR " + *right;
    }
    return out;
  }

  Result<std::string> parse_and(int depth) {
    auto left = parse_primary(depth);
    if (!left) return left;
    std::string out = *left;
    while (is_word(peek(), "and")) {
      next();
      auto right = parse_primary(depth);
      if (!right) return right;
      out = out + " AND " + *right;
    }
    return out;
  }

  Result<const Field*> field(const Token& t) {
    if (t.kind != Tok::ident) return fail(fmt::format("expected a property name at {}", t.pos));
    for (const auto& f : fields_)
      if (f.name == t.text) return &f;
    return fail(fmt::format("property '{}' cannot be filtered on", t.text));
  }

  Result<std::string> parse_primary(int depth) {
    const Token& t = peek();
    if (t.kind == Tok::lparen) {
      next();
      auto inner = parse_or(depth + 1);
      if (!inner) return inner;
      if (next().kind != Tok::rparen) return fail("missing ')'");
      return "(" + *inner + ")";
    }
    if (is_word(t, "startswith")) {
      next();
      if (next().kind != Tok::lparen) return fail("expected '(' after startswith");
      auto f = field(next());
      if (!f) return f.error();
      if (next().kind != Tok::comma) return fail("expected ',' in startswith");
      const Token& lit = next();
      if (lit.kind != Tok::string) return fail("startswith needs a quoted string");
      if (next().kind != Tok::rparen) return fail("missing ')' after startswith");
      if (!(*f)->prefix_range.empty()) {
        // [prefix, prefix + U+10FFFF): every string that starts with the prefix, in the byte
        // order of UTF-8 (which is code point order), so that an index on the expression
        // answers it.
        std::string low = lit.text;
        for (auto& c : low)
          if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        params_.emplace_back(low);
        params_.emplace_back(low + "\xF4\x8F\xBF\xBF");
        return "(" + (*f)->prefix_range + ")";
      }
      // Prefix match without LIKE wildcards: compare the leading characters.
      params_.emplace_back(lit.text);
      return fmt::format("(SUBSTR({}, 1, {}) = ?)", (*f)->column, lit.text.size());
    }
    auto f = field(next());
    if (!f) return f.error();
    const Token& op = next();
    bool eq = is_word(op, "eq");
    if (!eq && !is_word(op, "ne"))
      return fail(fmt::format("expected 'eq' or 'ne' after '{}'", (*f)->name));
    const Token& lit = next();
    if (lit.kind == Tok::ident && is_word(lit, "null")) {
      return fmt::format("({} IS {}NULL)", (*f)->column, eq ? "" : "NOT ");
    }
    std::string value;
    if (lit.kind == Tok::string) {
      value = lit.text;
    } else if (lit.kind == Tok::ident && (is_word(lit, "true") || is_word(lit, "false"))) {
      value = is_word(lit, "true") ? "1" : "0";
    } else {
      return fail(fmt::format("expected a quoted value after '{}'", op.text));
    }
    const auto& ev = (*f)->enum_values;
    if (!ev.empty() && std::find(ev.begin(), ev.end(), value) == ev.end())
      return fail(fmt::format("'{}' is not a valid value of {}", value, (*f)->name));
    params_.emplace_back(value);
    if (eq) return fmt::format("({} = ?)", (*f)->column);
    // ne: NULL counts as "not equal", as a client would expect.
    return fmt::format("({0} IS NULL OR {0} <> ?)", (*f)->column);
  }

  std::vector<Token> toks_;
  std::size_t i_ = 0;
  const std::vector<Field>& fields_;
  store::Params params_;
};

}  // namespace

Result<SqlFilter> compile_filter(std::string_view filter, const std::vector<Field>& fields) {
  if (filter.size() > 4096) return bad_request("Invalid $filter: longer than 4096 characters.");
  auto toks = lex(filter);
  if (!toks) return toks.error();
  if (toks->size() == 1) return bad_request("Invalid $filter: the expression is empty.");
  return Parser(std::move(*toks), fields).run();
}

Result<Query> parse_query(const std::vector<std::pair<std::string, std::string>>& query,
                          bool dollar_optional, const std::vector<std::string>& allowed_select,
                          int max_top, bool orderby_allowed) {
  Query q;
  q.top = max_top;
  for (const auto& [raw_key, value] : query) {
    std::string key = raw_key;
    if (key.starts_with("$")) {
      key = key.substr(1);
    } else if (!dollar_optional) {
      continue;  // not a system query option
    }
    if (key == "filter") {
      q.filter = value;
    } else if (key == "top") {
      int n = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
      if (ec != std::errc{} || p != value.data() + value.size() || n < 1 || n > max_top)
        return bad_request(fmt::format("$top must be a whole number from 1 to {}.", max_top));
      q.top = n;
    } else if (key == "count") {
      if (value != "true" && value != "false") return bad_request("$count must be true or false.");
      q.count = value == "true";
    } else if (key == "select") {
      std::size_t i = 0;
      while (i <= value.size()) {
        std::size_t j = value.find(',', i);
        if (j == std::string::npos) j = value.size();
        std::string name = value.substr(i, j - i);
        while (!name.empty() && name.front() == ' ') name.erase(0, 1);
        while (!name.empty() && name.back() == ' ') name.pop_back();
        if (std::find(allowed_select.begin(), allowed_select.end(), name) == allowed_select.end())
          return bad_request(fmt::format("$select names an unknown property '{}'.", name));
        if (std::find(q.select.begin(), q.select.end(), name) == q.select.end())
          q.select.push_back(name);
        i = j + 1;
      }
    } else if (key == "orderby" && orderby_allowed) {
      std::string_view v = value;
      auto sp = v.find(' ');
      std::string_view name = v.substr(0, sp);
      std::string_view dir = sp == std::string_view::npos ? "" : v.substr(sp + 1);
      if (name.empty() || (dir != "" && dir != "asc" && dir != "desc"))
        return bad_request("$orderby takes one property, then optionally asc or desc.");
      q.orderby = std::string(name);
      q.descending = dir == "desc";
    } else if (key == "skiptoken") {
      auto pos = decode_skiptoken(value);
      if (!pos) return pos.error();
      q.skiptoken = std::move(*pos);
    } else if (raw_key.starts_with("$")) {
      return bad_request(fmt::format("The query option '{}' is not supported here.", raw_key));
    }
  }
  return q;
}

std::string encode_skiptoken(std::string_view last_id) {
  return crypto::base64url_encode("v1:" + std::string(last_id));
}

Result<std::string> decode_skiptoken(std::string_view token) {
  auto raw = crypto::base64url_decode(token);
  if (!raw || !raw->starts_with("v1:") || raw->size() > 200)
    return bad_request("$skiptoken is not valid: use @odata.nextLink as it was given.");
  return raw->substr(3);
}

}  // namespace reach::hub::odata
