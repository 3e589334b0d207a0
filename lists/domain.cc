#include "lists/domain.h"

#include <arpa/inet.h>
#include <idn2.h>

#include <cstdlib>
#include <cstring>

namespace vigie {

std::string_view DomainErrorName(DomainError e) {
  switch (e) {
    case DomainError::kOk: return "ok";
    case DomainError::kEmpty: return "empty name";
    case DomainError::kTooLong: return "name longer than 253 characters";
    case DomainError::kLabelTooLong: return "label longer than 63 characters";
    case DomainError::kEmptyLabel: return "empty label";
    case DomainError::kBadIdn: return "invalid internationalised name";
  }
  return "?";
}

namespace {

// Folds ASCII case, removes one trailing dot and checks the limits.
DomainError FoldAscii(std::string_view in, DomainBuf* out) {
  if (!in.empty() && in.back() == '.') in.remove_suffix(1);
  if (in.empty()) return DomainError::kEmpty;
  if (in.size() > kMaxDomainLength) return DomainError::kTooLong;
  size_t label = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '.') {
      if (label == 0) return DomainError::kEmptyLabel;
      label = 0;
    } else {
      if (++label > kMaxLabelLength) return DomainError::kLabelTooLong;
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + ('a' - 'A'));
    }
    out->data[i] = c;
  }
  if (label == 0) return DomainError::kEmptyLabel;
  out->len = static_cast<uint8_t>(in.size());
  out->data[in.size()] = '\0';
  return DomainError::kOk;
}

bool HasNonAscii(std::string_view in) {
  for (char c : in) {
    if (static_cast<unsigned char>(c) >= 0x80) return true;
  }
  return false;
}

}  // namespace

DomainError NormalizeDomain(std::string_view in, DomainBuf* out) {
  out->len = 0;
  out->data[0] = '\0';
  if (!HasNonAscii(in)) return FoldAscii(in, out);

  // IDN: libidn2 wants a NUL-terminated UTF-8 string. Names longer than a
  // DNS name can be in UTF-8 (4 bytes per code point) are rejected first.
  constexpr size_t kMaxUtf8Input = 4 * kMaxDomainLength + 1;
  if (in.size() > kMaxUtf8Input) return DomainError::kTooLong;
  // libidn2 reads up to the first NUL: "tiktok.com\0\xc3\xbc" would become
  // "tiktok.com". A NUL cannot be part of a U-label.
  if (std::memchr(in.data(), '\0', in.size()) != nullptr) return DomainError::kBadIdn;
  char input[kMaxUtf8Input + 1];
  std::memcpy(input, in.data(), in.size());
  input[in.size()] = '\0';
  char* ascii = nullptr;
  int rc = idn2_to_ascii_8z(input, &ascii, IDN2_NONTRANSITIONAL | IDN2_NFC_INPUT);
  if (rc != IDN2_OK) {
    // UTS#46 transitional processing accepts some names the strict mode
    // refuses (e.g. symbols); try it before giving up.
    rc = idn2_to_ascii_8z(input, &ascii, IDN2_TRANSITIONAL | IDN2_NFC_INPUT);
  }
  if (rc != IDN2_OK || ascii == nullptr) {
    if (ascii != nullptr) idn2_free(ascii);
    // libidn2 checks the limits on the A-label form itself.
    if (rc == IDN2_TOO_BIG_DOMAIN) return DomainError::kTooLong;
    if (rc == IDN2_TOO_BIG_LABEL) return DomainError::kLabelTooLong;
    return DomainError::kBadIdn;
  }
  DomainError e = FoldAscii(ascii, out);
  idn2_free(ascii);
  return e;
}

bool IsHostnameSyntax(std::string_view n) {
  for (char c : n) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

bool IsIpv4Literal(std::string_view n) {
  if (n.empty() || n.size() >= INET_ADDRSTRLEN) return false;
  char buf[INET_ADDRSTRLEN];
  std::memcpy(buf, n.data(), n.size());
  buf[n.size()] = '\0';
  unsigned char addr[sizeof(struct in_addr)];
  return inet_pton(AF_INET, buf, addr) == 1;
}

std::string_view ParseLabelPattern(std::string_view n, LabelPattern* out) {
  size_t star = n.find(kPatternWildcard);
  if (star == std::string_view::npos) return "not a pattern (no '*')";
  if (n.find(kPatternWildcard, star + 1) != std::string_view::npos) {
    return "a pattern holds one '*' only";
  }
  size_t dot = n.find('.');
  if (dot == std::string_view::npos) return "a pattern needs a parent domain";
  if (star > dot) return "'*' is allowed only in the leftmost label";
  std::string_view left = n.substr(0, dot);
  std::string_view parent = n.substr(dot + 1);
  if (left.size() == 1) {
    return "a leftmost label of only '*' would match every name under a shared parent";
  }
  if (parent.find('.') == std::string_view::npos) {
    return "a pattern's parent needs at least two labels (not directly under a TLD)";
  }
  std::string_view prefix = left.substr(0, star);
  std::string_view suffix = left.substr(star + 1);
  if (!IsHostnameSyntax(prefix) || !IsHostnameSyntax(suffix) || !IsHostnameSyntax(parent)) {
    return "not a domain name pattern";
  }
  out->prefix = prefix;
  out->suffix = suffix;
  out->parent = parent;
  return "";
}

bool LabelFitsPattern(std::string_view prefix, std::string_view suffix, std::string_view label) {
  // The '*' stands for at least one character.
  if (label.size() <= prefix.size() + suffix.size()) return false;
  if (label.find('.') != std::string_view::npos) return false;
  return label.starts_with(prefix) && label.ends_with(suffix);
}

}  // namespace vigie
