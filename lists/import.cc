#include "lists/import.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "lists/domain.h"
#include "lists/list_loader.h"
#include "lists/text_util.h"

namespace vigie {
namespace {

std::vector<std::string_view> Words(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && IsSpace(s[i])) ++i;
    size_t start = i;
    while (i < s.size() && !IsSpace(s[i])) ++i;
    if (i > start) out.push_back(s.substr(start, i - start));
  }
  return out;
}

absl::Status At(std::string_view file, uint32_t line, std::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(std::string(file), ":", line, ": ", std::string(why)));
}

// Length of the valid UTF-8 sequence at s[i] (RFC 3629: no overlongs, no
// surrogates, at most U+10FFFF), or 0.
size_t Utf8SeqLen(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  if (c < 0x80) return 1;
  size_t n;
  unsigned char lo = 0x80, hi = 0xBF;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k) {
    if (b(i + k) < 0x80 || b(i + k) > 0xBF) return 0;
  }
  return n;
}

// Splits a source into lines, checking it is text: no NUL, no line over
// kMaxImportLineLength, valid UTF-8.
absl::StatusOr<std::vector<std::string_view>> TextLines(const ImportSource& src) {
  std::string_view text = src.text;
  ConsumePrefix(&text, "\xEF\xBB\xBF");
  std::vector<std::string_view> lines;
  size_t start = 0;
  uint32_t lineno = 1;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '\n') {
      if (i == text.size() && i == start) break;  // no empty last line after a final '\n'
      std::string_view line = text.substr(start, i - start);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      lines.push_back(line);
      start = i + 1;
      ++lineno;
      continue;
    }
    if (i - start >= kMaxImportLineLength) {
      return At(src.name, lineno,
                absl::StrCat("line longer than ", kMaxImportLineLength, " bytes (not a list file?)"));
    }
    if (text[i] == '\0') return At(src.name, lineno, "NUL byte (not a text file)");
    if (static_cast<unsigned char>(text[i]) >= 0x80) {
      size_t n = Utf8SeqLen(text, i);
      if (n == 0) return At(src.name, lineno, "invalid UTF-8");
      i += n - 1;
    }
  }
  return lines;
}

enum class Kind : uint8_t { kSuffix, kExact, kPattern };

// One candidate entry from a source line.
struct Candidate {
  std::string_view name;  // as written
  Kind kind;
};

// Parser output for one line: candidates, or a skip reason.
struct LineResult {
  std::vector<Candidate> entries;
  std::string skip;      // non-empty: the whole line is skipped for this reason
  bool narrowed = false;  // an adblock wildcard imported as a label pattern
};

std::string_view StripHashComment(std::string_view line) {
  for (size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) return line.substr(0, i);
  }
  return line;
}

bool HasStar(std::string_view s) { return s.find('*') != std::string_view::npos; }

void ParseV2fly(std::string_view line, LineResult* out) {
  line = Strip(StripHashComment(line));
  if (line.empty()) return;
  std::vector<std::string_view> w = Words(line);
  // "@attr" annotations (and v2fly's "&affiliation") follow the entry.
  for (size_t i = 1; i < w.size(); ++i) {
    if (!w[i].starts_with("@") && !w[i].starts_with("&")) {
      out->skip = "expected one entry and @attributes";
      return;
    }
  }
  std::string_view e = w[0];
  if (e.starts_with("keyword:")) { out->skip = "keyword: (substring) rules have no Vigie equivalent"; return; }
  if (e.starts_with("regexp:")) { out->skip = "regexp: rules have no Vigie equivalent"; return; }
  if (e.starts_with("include:")) {
    out->skip = "include: is not followed; import that data file too";
    return;
  }
  Kind kind = Kind::kSuffix;
  if (ConsumePrefix(&e, "full:")) {
    kind = Kind::kExact;
  } else if (!ConsumePrefix(&e, "domain:") && e.find(':') != std::string_view::npos) {
    out->skip = "unknown v2fly rule type";
    return;
  }
  if (HasStar(e)) { out->skip = "'*' is not v2fly syntax"; return; }
  out->entries.push_back({e, kind});
}

// The options after '$' that do not narrow a rule (list_loader.cc accepts
// the same set).
bool HarmlessModifier(std::string_view opt) {
  return opt == "important" || opt == "all" || opt == "document" || opt == "doc";
}

void ParseAdblockRule(std::string_view rule, LineResult* out) {
  rule = Strip(rule);
  if (rule.empty() || rule[0] == '!' || rule[0] == '#' || rule[0] == '[') return;  // comments, header
  if (rule.starts_with("@@")) {
    out->skip = "exception rule (@@): put the name in an allow-list if it must stay reachable";
    return;
  }
  if (rule.find("##") != std::string_view::npos || rule.find("#@#") != std::string_view::npos ||
      rule.find("#?#") != std::string_view::npos || rule.find("#$#") != std::string_view::npos) {
    out->skip = "cosmetic rule";
    return;
  }
  if (rule.size() >= 2 && rule.front() == '/' && rule.back() == '/') {
    out->skip = "regular expression rule";
    return;
  }
  std::string_view opts;
  if (size_t dollar = rule.find('$'); dollar != std::string_view::npos) {
    opts = rule.substr(dollar + 1);
    rule = rule.substr(0, dollar);
    size_t pos = 0;
    while (pos <= opts.size()) {
      size_t comma = opts.find(',', pos);
      std::string_view opt = opts.substr(pos, comma == std::string_view::npos ? std::string_view::npos : comma - pos);
      if (!HarmlessModifier(opt)) {
        out->skip = absl::StrCat("modifier $", std::string(opt), " narrows the rule");
        return;
      }
      if (comma == std::string_view::npos) break;
      pos = comma + 1;
    }
  }
  Kind kind;
  if (ConsumePrefix(&rule, "||")) {
    kind = Kind::kSuffix;
  } else if (ConsumePrefix(&rule, "|")) {
    kind = Kind::kExact;
    // "|https://x/", "|http://x^": a URL anchored at its start names host x.
    if (!ConsumePrefix(&rule, "https://")) ConsumePrefix(&rule, "http://");
  } else {
    out->skip = "not anchored at a host (substring rule)";
    return;
  }
  // The host ends at '^' or '/' (then nothing but an optional '|' or '^').
  size_t end = rule.find_first_of("^/");
  if (end == std::string_view::npos) {
    out->skip = "no '^' or '/' after the host (substring rule)";
    return;
  }
  std::string_view host = rule.substr(0, end);
  std::string_view rest = rule.substr(end + 1);
  if (!(rest.empty() || rest == "|" || (rule[end] == '/' && (rest == "^" || rest == "|")))) {
    out->skip = "rule with a path is not a host rule";
    return;
  }
  if (rule[end] == '/' && kind == Kind::kSuffix) {
    // "||x/": still host x and its subdomains.
  }
  if (HasStar(host)) {
    // Only one shape maps onto a label pattern (import.h).
    DomainBuf buf;
    LabelPattern lp;
    if (NormalizeDomain(host, &buf) != DomainError::kOk ||
        !ParseLabelPattern(buf.view(), &lp).empty()) {
      out->skip = "wildcard that is not one '*' in the leftmost label under a two-label parent";
      return;
    }
    out->narrowed = true;
    out->entries.push_back({host, Kind::kPattern});
    return;
  }
  out->entries.push_back({host, kind});
}

// Names a hosts file keeps for the machine itself (list_loader.cc has the
// same list).
bool IsHostsBoilerplate(std::string_view name) {
  static constexpr std::string_view kNames[] = {
      "localhost",     "localhost.localdomain", "local",           "broadcasthost",
      "ip6-localhost", "ip6-loopback",          "ip6-localnet",    "ip6-mcastprefix",
      "ip6-allnodes",  "ip6-allrouters",        "ip6-allhosts",    "0.0.0.0"};
  for (std::string_view n : kNames) {
    DomainBuf buf;
    if (NormalizeDomain(name, &buf) == DomainError::kOk && buf.view() == n) return true;
  }
  return false;
}

// A hosts line starts with an IPv4 or IPv6 literal (optional %zone).
bool LooksLikeAddress(std::string_view s) {
  if (size_t pct = s.find('%'); pct != std::string_view::npos) s = s.substr(0, pct);
  if (s.empty() || s.size() >= INET6_ADDRSTRLEN) return false;
  char buf[INET6_ADDRSTRLEN];
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = '\0';
  unsigned char addr[sizeof(struct in6_addr)];
  return inet_pton(AF_INET, buf, addr) == 1 || inet_pton(AF_INET6, buf, addr) == 1;
}

void ParseHosts(std::string_view line, LineResult* out, std::vector<ImportNote>* boiler,
                std::string_view file, uint32_t lineno) {
  line = Strip(StripHashComment(line));
  if (line.empty()) return;
  std::vector<std::string_view> w = Words(line);
  if (w.size() < 2 || !LooksLikeAddress(w[0])) {
    out->skip = "not a hosts line (address then names)";
    return;
  }
  for (size_t i = 1; i < w.size(); ++i) {
    if (IsHostsBoilerplate(w[i])) {
      boiler->push_back({std::string(file), lineno, std::string(w[i]), "hosts file boilerplate name"});
      continue;
    }
    out->entries.push_back({w[i], Kind::kExact});
  }
}

void ParsePlain(std::string_view line, LineResult* out) {
  line = Strip(StripHashComment(line));
  if (line.empty()) return;
  std::vector<std::string_view> w = Words(line);
  if (w.size() != 1) {
    out->skip = "expected one entry per line";
    return;
  }
  std::string_view e = w[0];
  Kind kind = Kind::kSuffix;
  if (ConsumePrefix(&e, "full:")) kind = Kind::kExact;
  else if (HasStar(e)) kind = Kind::kPattern;
  if (kind == Kind::kExact && HasStar(e)) {
    out->skip = "'*' in a full: entry";
    return;
  }
  out->entries.push_back({e, kind});
}

// AdGuard services/*.yml, the subset described in import.h: returns the
// rules as (line number, rule text); a construct outside the subset inside
// the rules list fails with file:line.
absl::Status ParseAdguardYaml(const ImportSource& src, const std::vector<std::string_view>& lines,
                              std::vector<std::pair<uint32_t, std::string>>* rules) {
  bool in_rules = false, seen_rules = false;
  for (size_t i = 0; i < lines.size(); ++i) {
    const uint32_t lineno = static_cast<uint32_t>(i + 1);
    std::string_view line = lines[i];
    std::string_view t = Strip(line);
    if (t.empty() || t[0] == '#') continue;
    const bool top_level = !line.empty() && line[0] != ' ' && line[0] != '\t' && line[0] != '-';
    if (top_level) {
      in_rules = false;
      if (t.starts_with("rules:")) {
        std::string_view rest = Strip(t.substr(6));
        if (!rest.empty()) return At(src.name, lineno, "rules: must be followed by a block list ('  - rule' lines)");
        if (seen_rules) return At(src.name, lineno, "second rules: key");
        in_rules = seen_rules = true;
      }
      continue;  // other keys (id, name, icon_svg, group) are not rules
    }
    if (!in_rules) continue;  // continuation of another key's value
    if (!t.starts_with("- ") && t != "-") return At(src.name, lineno, "expected '- rule' in the rules list");
    std::string_view v = Strip(t.substr(1));
    std::string rule;
    if (!v.empty() && v[0] == '\'') {
      // Single-quoted scalar: '' stands for one quote; nothing after the close.
      size_t k = 1;
      bool closed = false;
      for (; k < v.size(); ++k) {
        if (v[k] == '\'') {
          if (k + 1 < v.size() && v[k + 1] == '\'') {
            rule += '\'';
            ++k;
            continue;
          }
          closed = true;
          break;
        }
        rule += v[k];
      }
      std::string_view after = closed ? Strip(v.substr(k + 1)) : std::string_view();
      if (!closed || !(after.empty() || after[0] == '#')) {
        return At(src.name, lineno, "unterminated or trailing text after a quoted rule");
      }
    } else if (!v.empty() && v[0] == '"') {
      size_t close = v.find('"', 1);
      std::string_view inner = close == std::string_view::npos ? std::string_view() : v.substr(1, close - 1);
      if (close == std::string_view::npos || inner.find('\\') != std::string_view::npos ||
          !Strip(v.substr(close + 1)).empty()) {
        return At(src.name, lineno, "double-quoted rule with escapes or trailing text is not supported");
      }
      rule = std::string(inner);
    } else {
      // Flow collections, block scalars ("|", "|-", ">"), anchors, aliases,
      // tags: outside the subset. "||x^" unquoted is a plain scalar.
      const bool block_scalar = v == "|" || v == "|-" || v == "|+" || (!v.empty() && v[0] == '>');
      if (v.empty() || block_scalar || v[0] == '[' || v[0] == '{' || v[0] == '&' ||
          v[0] == '*' || v[0] == '!') {
        return At(src.name, lineno, "YAML construct not supported in the rules list");
      }
      // A plain scalar: a " #" starts a comment.
      size_t hash = v.find(" #");
      rule = std::string(Strip(hash == std::string_view::npos ? v : v.substr(0, hash)));
    }
    rules->emplace_back(lineno, std::move(rule));
  }
  if (!seen_rules) return At(src.name, 1, "no top-level rules: list (not an AdGuard services file?)");
  return absl::OkStatus();
}

// Reversed-label walk helpers for coverage.
std::string_view ParentOf(std::string_view d) {
  size_t dot = d.find('.');
  return dot == std::string_view::npos ? std::string_view() : d.substr(dot + 1);
}

}  // namespace

absl::StatusOr<ImportFormat> ParseImportFormat(std::string_view name) {
  if (name == "v2fly") return ImportFormat::kV2fly;
  if (name == "adguard-services") return ImportFormat::kAdguardServices;
  if (name == "adblock") return ImportFormat::kAdblock;
  if (name == "hosts") return ImportFormat::kHosts;
  if (name == "plain") return ImportFormat::kPlain;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown import format '", std::string(name),
                   "' (v2fly, adguard-services, adblock, hosts, plain)"));
}

std::string_view ImportFormatName(ImportFormat f) {
  switch (f) {
    case ImportFormat::kV2fly: return "v2fly";
    case ImportFormat::kAdguardServices: return "adguard-services";
    case ImportFormat::kAdblock: return "adblock";
    case ImportFormat::kHosts: return "hosts";
    case ImportFormat::kPlain: return "plain";
  }
  return "?";
}

absl::StatusOr<ImportResult> ImportLists(ImportFormat format,
                                         const std::vector<ImportSource>& sources) {
  ImportResult res;
  struct Pending {
    std::string domain;  // normalised (pattern: with '*')
    Kind kind;
    std::string file;
    uint32_t line;
    std::string text;
  };
  std::vector<Pending> pending;
  for (const ImportSource& src : sources) {
    auto lines = TextLines(src);
    if (!lines.ok()) return lines.status();
    // (line number, rule text) for every rule of this source.
    std::vector<std::pair<uint32_t, std::string>> rules;
    if (format == ImportFormat::kAdguardServices) {
      absl::Status st = ParseAdguardYaml(src, *lines, &rules);
      if (!st.ok()) return st;
    } else {
      for (size_t i = 0; i < lines->size(); ++i) {
        rules.emplace_back(static_cast<uint32_t>(i + 1), std::string((*lines)[i]));
      }
    }
    for (const auto& [lineno, text] : rules) {
      LineResult lr;
      switch (format) {
        case ImportFormat::kV2fly: ParseV2fly(text, &lr); break;
        case ImportFormat::kAdguardServices:
        case ImportFormat::kAdblock: ParseAdblockRule(text, &lr); break;
        case ImportFormat::kHosts: ParseHosts(text, &lr, &res.skipped, src.name, lineno); break;
        case ImportFormat::kPlain: ParsePlain(text, &lr); break;
      }
      std::string shown(Strip(text));
      if (!lr.skip.empty()) {
        res.skipped.push_back({src.name, lineno, shown, lr.skip});
        continue;
      }
      for (const Candidate& c : lr.entries) {
        DomainBuf buf;
        DomainError err = NormalizeDomain(c.name, &buf);
        if (err != DomainError::kOk) {
          res.skipped.push_back({src.name, lineno, shown, std::string(DomainErrorName(err))});
          continue;
        }
        std::string_view d = buf.view();
        if (c.kind == Kind::kPattern) {
          LabelPattern lp;
          std::string_view why = ParseLabelPattern(d, &lp);
          if (!why.empty()) {
            res.skipped.push_back({src.name, lineno, shown, std::string(why)});
            continue;
          }
        } else if (!IsHostnameSyntax(d)) {
          res.skipped.push_back({src.name, lineno, shown, "not a domain name"});
          continue;
        } else if (d.find('.') == std::string_view::npos) {
          res.skipped.push_back({src.name, lineno, shown, "a single label (a top-level domain) is not a list entry"});
          continue;
        } else if (IsIpv4Literal(d)) {
          res.skipped.push_back({src.name, lineno, shown, "an IPv4 address, not a name"});
          continue;
        }
        if (lr.narrowed) {
          res.narrowed.push_back({src.name, lineno, shown,
                                  "imported as a label pattern: one label under the parent, "
                                  "not the adblock rule's subdomains or dotted '*' matches"});
        }
        pending.push_back({std::string(d), c.kind, src.name, lineno, shown});
      }
    }
  }
  // Suffix entries cover everything under them and full: on themselves.
  absl::flat_hash_map<std::string, size_t> suffix;  // domain -> first pending index
  for (size_t i = 0; i < pending.size(); ++i) {
    if (pending[i].kind == Kind::kSuffix) suffix.try_emplace(pending[i].domain, i);
  }
  // Label patterns by parent: a full: entry one label under a parent that a
  // pattern fits is covered by it.
  std::multimap<std::string, size_t, std::less<>> patterns;
  for (size_t i = 0; i < pending.size(); ++i) {
    if (pending[i].kind == Kind::kPattern) patterns.emplace(std::string(ParentOf(pending[i].domain)), i);
  }
  auto covering = [&](std::string_view d, bool include_self) -> const Pending* {
    std::string_view s = include_self ? d : ParentOf(d);
    while (!s.empty()) {
      auto it = suffix.find(std::string(s));
      if (it != suffix.end()) return &pending[it->second];
      s = ParentOf(s);
    }
    return nullptr;
  };
  auto pattern_covering = [&](std::string_view host) -> const Pending* {
    std::string_view parent = ParentOf(host);
    if (parent.empty()) return nullptr;
    std::string_view label = host.substr(0, host.size() - parent.size() - 1);
    auto [lo, hi] = patterns.equal_range(parent);
    for (auto it = lo; it != hi; ++it) {
      LabelPattern lp;
      const Pending& p = pending[it->second];
      if (ParseLabelPattern(p.domain, &lp).empty() && LabelFitsPattern(lp.prefix, lp.suffix, label)) {
        return &p;
      }
    }
    return nullptr;
  };
  std::set<std::pair<int, std::string>> seen;
  for (size_t i = 0; i < pending.size(); ++i) {
    const Pending& p = pending[i];
    std::string entry = p.kind == Kind::kExact ? "full:" + p.domain : p.domain;
    if (!seen.emplace(static_cast<int>(p.kind), p.domain).second) {
      res.removed.push_back({p.file, p.line, p.text, "duplicate of " + entry});
      continue;
    }
    const Pending* cover = nullptr;
    if (p.kind == Kind::kSuffix) cover = covering(p.domain, false);
    else if (p.kind == Kind::kExact) {
      cover = covering(p.domain, true);
      if (cover == nullptr) cover = pattern_covering(p.domain);
    }
    else cover = covering(ParentOf(p.domain), true);
    if (cover != nullptr) {
      res.removed.push_back({p.file, p.line, p.text,
                             absl::StrCat("covered by ", cover->domain, " (", cover->file, ":",
                                          cover->line, ")")});
      continue;
    }
    res.entries.push_back({std::move(entry), p.file, p.line});
  }
  return res;
}

void WriteImportedList(const ImportResult& result, const ImportHeader& header, std::ostream& out) {
  out << "# Imported by vigie lists import --format " << ImportFormatName(header.format);
  if (!header.app.empty()) out << " --app " << header.app;
  out << "\n# Date: " << header.date << "\n";
  for (const std::string& s : header.sources) out << "# Source: " << s << "\n";
  out << "# " << result.entries.size() << " entries; " << result.skipped.size()
      << " skipped, " << result.removed.size() << " removed as duplicate or covered, "
      << result.narrowed.size() << " adblock wildcards narrowed to label patterns"
      << " (see the import report)\n";
  for (const ImportedEntry& e : result.entries) out << e.entry << "\n";
}

void WriteImportReport(const ImportResult& result, std::ostream& report) {
  auto put = [&](const std::vector<ImportNote>& v, const char* what) {
    for (const ImportNote& n : v) {
      report << n.file << ":" << n.line << ": " << what << ": " << n.text << ": " << n.why << "\n";
    }
  };
  put(result.skipped, "skipped");
  put(result.narrowed, "narrowed");
  put(result.removed, "removed");
}

std::string TodayUtc() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

absl::Status ImportFiles(ImportFormat format, std::string_view app,
                         const std::vector<std::string>& paths, std::string_view date,
                         std::ostream& out, std::ostream& report) {
  std::vector<ImportSource> sources;
  ImportHeader header;
  header.format = format;
  header.app = std::string(app);
  header.date = date.empty() ? TodayUtc() : std::string(date);
  for (const std::string& p : paths) {
    std::ifstream in(p, std::ios::binary);
    if (!in) return absl::NotFoundError(absl::StrCat(p, ": cannot open"));
    std::stringstream ss;
    ss << in.rdbuf();
    sources.push_back({p, ss.str()});
    header.sources.push_back(p);
  }
  auto res = ImportLists(format, sources);
  if (!res.ok()) return res.status();
  WriteImportedList(*res, header, out);
  WriteImportReport(*res, report);
  return absl::OkStatus();
}

std::string EntryText(const Rule& r) {
  if (r.exact) return "full:" + r.domain;
  return r.domain;
}

std::vector<ListDiff> DiffLists(const std::vector<AppList>& old_lists,
                                const std::vector<AppList>& new_lists) {
  std::map<std::string, std::pair<std::set<std::string>, std::set<std::string>>> by_app;
  auto add = [](const AppList& l, std::set<std::string>* s) {
    for (const Rule& r : l.rules) s->insert(EntryText(r));
    for (const Rule& r : l.ip_rules) s->insert("ip:" + r.domain);
  };
  for (const AppList& l : old_lists) add(l, &by_app[l.app].first);
  for (const AppList& l : new_lists) add(l, &by_app[l.app].second);
  std::vector<ListDiff> out;
  for (const auto& [app, sets] : by_app) {
    ListDiff d;
    d.app = app;
    std::set_difference(sets.second.begin(), sets.second.end(), sets.first.begin(),
                        sets.first.end(), std::back_inserter(d.added));
    std::set_difference(sets.first.begin(), sets.first.end(), sets.second.begin(),
                        sets.second.end(), std::back_inserter(d.removed));
    if (!d.added.empty() || !d.removed.empty()) out.push_back(std::move(d));
  }
  return out;
}

absl::StatusOr<std::vector<ListDiff>> DiffListPaths(const std::string& old_path,
                                                    const std::string& new_path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const bool old_dir = fs::is_directory(old_path, ec), new_dir = fs::is_directory(new_path, ec);
  if (old_dir != new_dir) {
    return absl::InvalidArgumentError(
        absl::StrCat(old_path, " and ", new_path, ": compare two files or two directories"));
  }
  auto never = [](std::string_view) { return false; };
  if (old_dir) {
    auto a = LoadListDir(old_path, never);
    if (!a.ok()) return a.status();
    auto b = LoadListDir(new_path, never);
    if (!b.ok()) return b.status();
    return DiffLists(*a, *b);
  }
  std::string app = fs::path(new_path).stem().string();
  auto a = LoadListFile(old_path, app, false);
  if (!a.ok()) return a.status();
  auto b = LoadListFile(new_path, app, false);
  if (!b.ok()) return b.status();
  return DiffLists({*a}, {*b});
}

void WriteListDiff(const std::vector<ListDiff>& diff, std::ostream& out) {
  for (const ListDiff& d : diff) {
    for (const std::string& e : d.added) out << d.app << ": +" << e << "\n";
    for (const std::string& e : d.removed) out << d.app << ": -" << e << "\n";
    out << d.app << ": " << d.added.size() << " added, " << d.removed.size() << " removed\n";
  }
}

}  // namespace vigie
