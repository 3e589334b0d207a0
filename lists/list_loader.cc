#include "lists/list_loader.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "lists/domain.h"
#include "lists/ip_address.h"
#include "lists/text_util.h"

namespace vigie {
namespace {

bool Contains(std::string_view s, std::string_view needle) {
  return s.find(needle) != std::string_view::npos;
}

// Splits on any of `seps`; with skip_empty, empty pieces are dropped.
std::vector<std::string_view> Split(std::string_view s, std::string_view seps, bool skip_empty) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || seps.find(s[i]) != std::string_view::npos) {
      if (!skip_empty || i > start) out.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// "'name': why" (built by appends: GCC 12 warns falsely on operator+ here).
std::string Quoted(std::string_view name, std::string_view why) {
  std::string s = "'";
  s.append(name);
  s.append("': ");
  s.append(why);
  return s;
}

absl::Status Invalid(std::string_view file, uint32_t line, std::string_view why) {
  std::string msg(file);
  msg += ':';
  msg += std::to_string(line);
  msg += ": ";
  msg += why;
  return absl::InvalidArgumentError(msg);
}

// A hosts file line starts with an address (any IPv4 or IPv6 literal, with
// an optional %zone); the names after it are entries.
bool IsAddress(std::string_view s) {
  if (size_t pct = s.find('%'); pct != std::string_view::npos) s = s.substr(0, pct);
  if (s.empty() || s.size() >= INET6_ADDRSTRLEN) return false;
  char buf[INET6_ADDRSTRLEN];
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = '\0';
  unsigned char addr[sizeof(struct in6_addr)];
  return inet_pton(AF_INET, buf, addr) == 1 || inet_pton(AF_INET6, buf, addr) == 1;
}

// Names that hosts files carry for the machine itself, not for blocking.
bool IsHostsBoilerplate(std::string_view name) {
  static constexpr std::string_view kNames[] = {
      "localhost",      "localhost.localdomain", "local",           "broadcasthost",
      "ip6-localhost",  "ip6-loopback",          "ip6-localnet",    "ip6-mcastprefix",
      "ip6-allnodes",   "ip6-allrouters",        "ip6-allhosts",    "0.0.0.0"};
  for (std::string_view n : kNames) {
    if (EqualsIgnoreCase(name, n)) return true;
  }
  return false;
}

// Names found on one line, each with the text that is reported as the rule.
struct Entry {
  std::string_view name;
  bool exact;
  bool may_pattern = false;  // a plain entry or an adblock ||rule^: '*' makes a label pattern
};

// '#' starts a comment at the start of a line or after white space; inside a
// word it is part of it (adblock "##" cosmetic rules, dnsmasq "/#/").
std::string_view StripComment(std::string_view line) {
  for (size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t')) {
      return line.substr(0, i);
    }
  }
  return line;
}

absl::Status ParseLine(std::string_view line, std::vector<Entry>* out) {
  line = Strip(StripComment(line));
  // '!' starts an adblock comment line, '[' an adblock header ("[Adblock Plus 2.0]").
  if (line.empty() || line[0] == '!' || line[0] == '[') return absl::OkStatus();

  if (ConsumePrefix(&line, "full:")) {
    out->push_back({Strip(line), true});
    return absl::OkStatus();
  }
  if (ConsumePrefix(&line, "domain:")) {  // v2fly style, same as plain
    out->push_back({Strip(line), false});
    return absl::OkStatus();
  }
  if (line.starts_with("@@")) {
    // Dropping an exception would block what the list's author allowed.
    return absl::InvalidArgumentError(
        "adblock exception rule (@@): put the name in an allow-list instead");
  }
  if (Contains(line, "##") || Contains(line, "#@#") ||
      Contains(line, "#?#") || Contains(line, "#$#")) {
    return absl::InvalidArgumentError("adblock cosmetic rule is not a domain rule");
  }
  if (line.starts_with("||")) {  // adblock: ||name^ with optional $options
    line.remove_prefix(2);
    size_t caret = line.find('^');
    if (caret == std::string_view::npos) return absl::InvalidArgumentError("adblock rule without '^'");
    std::string_view rest = line.substr(caret + 1);
    if (ConsumePrefix(&rest, "|") && rest.empty()) {
      // "||name^|": same as "||name^".
    } else if (ConsumePrefix(&rest, "$")) {
      // Modifiers such as $domain=, $client= or $denyallow= narrow a rule;
      // applying it to every query would over-block. Accept only those
      // that do not narrow it.
      for (std::string_view opt : Split(rest, ",", false)) {
        if (opt != "important" && opt != "all" && opt != "document" && opt != "doc") {
          return absl::InvalidArgumentError(
              "adblock modifier '$" + std::string(opt) + "' is not supported");
        }
      }
    } else if (!rest.empty()) {
      return absl::InvalidArgumentError("adblock rule with a path is not a domain rule");
    }
    out->push_back({line.substr(0, caret), false, true});
    return absl::OkStatus();
  }
  if (line.starts_with("address=/") || line.starts_with("server=/") ||
      line.starts_with("local=/")) {
    // dnsmasq: address=/a.com/b.com/target (names between slashes).
    std::vector<std::string_view> parts = Split(line, "/", false);
    if (parts.size() < 3) return absl::InvalidArgumentError("dnsmasq rule without names");
    for (size_t i = 1; i + 1 < parts.size(); ++i) {
      if (parts[i].empty()) continue;
      if (parts[i] == "#") return absl::InvalidArgumentError("dnsmasq '/#/' (every domain) is not a list entry");
      out->push_back({parts[i], false});
    }
    if (out->empty()) return absl::InvalidArgumentError("dnsmasq rule without names");
    return absl::OkStatus();
  }
  std::vector<std::string_view> words = Split(line, " \t", true);
  if (words.size() >= 2 && IsAddress(words[0])) {  // hosts file
    for (size_t i = 1; i < words.size(); ++i) {
      if (IsHostsBoilerplate(words[i])) continue;
      out->push_back({words[i], false});
    }
    return absl::OkStatus();
  }
  if (words.size() == 1 && IsAddress(words[0])) {
    return absl::InvalidArgumentError("hosts line without a name");
  }
  if (words.size() != 1) return absl::InvalidArgumentError("expected one domain per line");
  out->push_back({words[0], false, true});
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<AppList> ParseList(std::string_view text, std::string_view app,
                                  std::string_view file, bool allow) {
  AppList list;
  list.app = std::string(app);
  list.allow = allow;
  list.file = std::string(file);
  list.rel_file = std::filesystem::path(std::string(file)).filename().string();
  uint32_t lineno = 0;
  std::vector<Entry> entries;
  ConsumePrefix(&text, "\xEF\xBB\xBF");  // UTF-8 byte order mark
  for (std::string_view line : Split(text, "\n", false)) {
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    entries.clear();
    // ip:CIDR (IPv4 or IPv6): matched on the destination when no name is seen.
    if (std::string_view ip = Strip(StripComment(line)); ConsumePrefix(&ip, "ip:")) {
      ip = Strip(ip);
      auto cidr = Cidr::Parse(ip);
      if (!cidr.ok()) return Invalid(file, lineno, std::string(cidr.status().message()));
      Rule r;
      r.domain = cidr->ToString();
      r.text = std::string(Strip(StripComment(line)));
      r.file = list.file;
      r.rel_file = list.rel_file;
      r.line = lineno;
      list.ip_rules.push_back(std::move(r));
      continue;
    }
    absl::Status st = ParseLine(line, &entries);
    if (!st.ok()) return Invalid(file, lineno, std::string(st.message()));
    for (const Entry& e : entries) {
      DomainBuf buf;
      DomainError err = NormalizeDomain(e.name, &buf);
      if (err != DomainError::kOk) {
        return Invalid(file, lineno, Quoted(e.name, DomainErrorName(err)));
      }
      const bool pattern = buf.view().find(kPatternWildcard) != std::string_view::npos;
      if (pattern) {
        if (!e.may_pattern) {
          return Invalid(file, lineno,
                         Quoted(e.name, "'*' is allowed only in a plain entry or an adblock "
                                        "||rule^ (a label pattern)"));
        }
        LabelPattern lp;
        std::string_view why = ParseLabelPattern(buf.view(), &lp);
        if (!why.empty()) return Invalid(file, lineno, Quoted(e.name, why));
      } else if (!IsHostnameSyntax(buf.view()) ||
                 buf.view().find('.') == std::string_view::npos) {
        return Invalid(file, lineno, Quoted(e.name, "not a domain name"));
      } else if (IsIpv4Literal(buf.view())) {
        return Invalid(file, lineno, Quoted(e.name, "an IPv4 address, not a name (an address rule is ip:ADDR)"));
      }
      Rule r;
      r.domain = std::string(buf.view());
      r.exact = e.exact;
      r.pattern = pattern;
      r.rel_file = list.rel_file;
      r.text = std::string(Strip(StripComment(line)));
      r.file = list.file;
      r.line = lineno;
      list.rules.push_back(std::move(r));
    }
  }
  return list;
}

absl::StatusOr<AppList> LoadListFile(const std::string& path, std::string_view app, bool allow) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open list file"));
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseList(ss.str(), app, path, allow);
}

absl::StatusOr<std::vector<AppList>> LoadListDir(
    const std::string& dir, const std::function<bool(std::string_view)>& is_allow) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return absl::NotFoundError(absl::StrCat(dir, ": not a list directory"));
  std::vector<fs::path> files;
  for (const auto& de : fs::directory_iterator(dir, ec)) {
    if (de.is_regular_file() && de.path().extension() == ".list") files.push_back(de.path());
  }
  if (ec) return absl::InternalError(absl::StrCat(dir, ": ", ec.message()));
  std::sort(files.begin(), files.end());
  std::vector<AppList> out;
  for (const fs::path& p : files) {
    std::string app = p.stem().string();
    auto list = LoadListFile(p.string(), app, is_allow(app));
    if (!list.ok()) return list.status();
    // Provenance relative to the lists directory ("tiktok.list").
    list->rel_file = p.lexically_relative(fs::path(dir)).string();
    for (Rule& r : list->rules) r.rel_file = list->rel_file;
    for (Rule& r : list->ip_rules) r.rel_file = list->rel_file;
    out.push_back(*std::move(list));
  }
  return out;
}

}  // namespace vigie
