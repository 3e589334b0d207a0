#include "lists/shared_parents.h"

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "lists/domain.h"

namespace vigie {
namespace {

constexpr bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r'; }

std::string_view Strip(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

// The first white-space-delimited word (the PSL says a rule ends there).
std::string_view FirstWord(std::string_view s) {
  s = Strip(s);
  size_t i = 0;
  while (i < s.size() && !IsSpace(s[i])) ++i;
  return s.substr(0, i);
}

absl::Status At(std::string_view file, uint32_t line, std::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat(std::string(file), ":", line, ": ", std::string(why)));
}

absl::StatusOr<std::string> Normal(std::string_view name, std::string_view file, uint32_t line) {
  DomainBuf buf;
  DomainError e = NormalizeDomain(name, &buf);
  if (e != DomainError::kOk) {
    return At(file, line, absl::StrCat("'", std::string(name), "': ", std::string(DomainErrorName(e))));
  }
  return std::string(buf.view());
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open"));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

template <typename F>
void ForEachLine(std::string_view text, F&& f) {
  uint32_t lineno = 0;
  size_t start = 0;
  while (start <= text.size()) {
    size_t nl = text.find('\n', start);
    std::string_view line = text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
    ++lineno;
    if (!f(line, lineno)) return;
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
}

std::string_view ParentOf(std::string_view d) {
  size_t dot = d.find('.');
  return dot == std::string_view::npos ? std::string_view() : d.substr(dot + 1);
}

}  // namespace

std::string_view SectionName(PublicSuffixList::Section s) {
  switch (s) {
    case PublicSuffixList::Section::kNone: return "implicit";
    case PublicSuffixList::Section::kIcann: return "ICANN";
    case PublicSuffixList::Section::kPrivate: return "PRIVATE";
  }
  return "?";
}

absl::StatusOr<PublicSuffixList> PublicSuffixList::Parse(std::string_view text, std::string_view file) {
  PublicSuffixList psl;
  Section section = Section::kNone;
  absl::Status status;
  ForEachLine(text, [&](std::string_view line, uint32_t lineno) {
    std::string_view t = Strip(line);
    if (t.starts_with("//")) {
      if (t.find("===BEGIN ICANN DOMAINS===") != std::string_view::npos) section = Section::kIcann;
      else if (t.find("===BEGIN PRIVATE DOMAINS===") != std::string_view::npos) section = Section::kPrivate;
      else if (t.find("===END ") != std::string_view::npos) section = Section::kNone;
      return true;
    }
    std::string_view rule = FirstWord(t);
    if (rule.empty()) return true;
    Entry entry{section, std::string(rule), lineno};
    absl::flat_hash_map<std::string, Entry>* into = &psl.rules_;
    std::string_view name = rule;
    if (name.starts_with("!")) {
      into = &psl.exceptions_;
      name.remove_prefix(1);
    } else if (name.starts_with("*.")) {
      into = &psl.wildcards_;
      name.remove_prefix(2);
    }
    if (name.find('*') != std::string_view::npos) {
      status = At(file, lineno, absl::StrCat("'", std::string(rule), "': '*' only as the leftmost label"));
      return false;
    }
    auto n = Normal(name, file, lineno);
    if (!n.ok()) {
      status = n.status();
      return false;
    }
    into->try_emplace(*std::move(n), std::move(entry));
    return true;
  });
  if (!status.ok()) return status;
  if (psl.rules_.empty()) return At(file, 1, "no rules (not a Public Suffix List?)");
  return psl;
}

absl::StatusOr<PublicSuffixList> PublicSuffixList::Load(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) return text.status();
  return Parse(*text, path);
}

bool PublicSuffixList::IsPublicSuffix(std::string_view d, Hit* hit) const {
  auto fill = [&](const Entry& e) {
    hit->section = e.section;
    hit->rule = e.text;
    hit->line = e.line;
    return true;
  };
  std::string key(d);
  if (exceptions_.contains(key)) return false;  // "!www.ck": www.ck is registrable
  if (auto it = rules_.find(key); it != rules_.end()) return fill(it->second);
  if (std::string_view parent = ParentOf(d); !parent.empty()) {
    if (auto it = wildcards_.find(std::string(parent)); it != wildcards_.end()) return fill(it->second);
  }
  if (d.find('.') == std::string_view::npos) {  // the implicit "*" rule
    hit->section = Section::kNone;
    hit->rule.assign(1, '*');  // (not = "*": GCC 12 -O3 warns -Wrestrict, a false positive)
    hit->line = 0;
    return true;
  }
  return false;
}

absl::StatusOr<SharedParentSet> SharedParentSet::Parse(std::string_view text, std::string_view file) {
  SharedParentSet set;
  set.file_ = std::string(file);
  absl::Status status;
  ForEachLine(text, [&](std::string_view line, uint32_t lineno) {
    if (size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    std::string_view t = Strip(line);
    if (t.empty()) return true;
    if (FirstWord(t) != t) {
      status = At(file, lineno, "expected one domain per line");
      return false;
    }
    auto n = Normal(t, file, lineno);
    if (!n.ok()) {
      status = n.status();
      return false;
    }
    if (!IsHostnameSyntax(*n) || n->find('.') == std::string::npos) {
      status = At(file, lineno, absl::StrCat("'", std::string(t), "': not a domain name"));
      return false;
    }
    set.parents_.try_emplace(*std::move(n), lineno);
    return true;
  });
  if (!status.ok()) return status;
  return set;
}

absl::StatusOr<SharedParentSet> SharedParentSet::Load(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok()) return text.status();
  return Parse(*text, path);
}

uint32_t SharedParentSet::LineOf(std::string_view domain) const {
  auto it = parents_.find(std::string(domain));
  return it == parents_.end() ? 0 : it->second;
}

std::vector<SharedParentWarning> CheckSharedParents(const std::vector<AppList>& lists,
                                                    const PublicSuffixList* psl,
                                                    const SharedParentSet* parents) {
  std::vector<SharedParentWarning> out;
  for (const AppList& list : lists) {
    for (const Rule& r : list.rules) {
      if (r.pattern) continue;  // never matches its parent: fine under a shared one
      std::string entry = r.exact ? "full:" + r.domain : r.domain;
      std::string file = r.rel_file.empty() ? r.file : r.rel_file;
      PublicSuffixList::Hit hit;
      if (psl != nullptr && psl->IsPublicSuffix(r.domain, &hit)) {
        std::string why = absl::StrCat("is a public suffix (", std::string(SectionName(hit.section)),
                                       " section, rule '", hit.rule, "'");
        if (hit.line != 0) absl::StrAppend(&why, " at line ", hit.line);
        absl::StrAppend(&why, r.exact ? "): a full: entry on it blocks a shared name"
                                      : "): a suffix entry blocks every registrant under it");
        out.push_back({file, r.line, entry, std::move(why)});
        continue;
      }
      if (parents != nullptr) {
        if (uint32_t line = parents->LineOf(r.domain); line != 0) {
          std::string why = absl::StrCat("is a shared infrastructure parent (", parents->file(), ":",
                                         line, ")");
          absl::StrAppend(&why, r.exact
                                    ? ": full: on the bare parent is almost always a mistaken import"
                                    : ": a suffix entry blocks every customer of it; list the app's "
                                      "own hosts as full: entries or label patterns instead");
          out.push_back({file, r.line, entry, std::move(why)});
        }
      }
    }
  }
  return out;
}

}  // namespace vigie
