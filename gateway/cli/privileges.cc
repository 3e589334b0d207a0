#include "gateway/cli/privileges.h"

#include <grp.h>
#include <pwd.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace vigie {

namespace {

namespace fs = std::filesystem;

// getpwnam_r buffer: Debian's passwd entries are far below this.
constexpr size_t kPasswdBufferBytes = 16384;

struct User {
  bool keep_root = false;  // "" or "root", or the default user absent
  bool absent_default = false;
  std::string name;
  uid_t uid = 0;
  gid_t gid = 0;
};

absl::StatusOr<User> ResolveUser(const Config& cfg) {
  User u;
  u.name = cfg.user;
  if (cfg.user.empty() || cfg.user == "root") {
    u.keep_root = true;
    return u;
  }
  struct passwd pw {};
  struct passwd* res = nullptr;
  std::vector<char> buf(kPasswdBufferBytes);
  int rc = getpwnam_r(cfg.user.c_str(), &pw, buf.data(), buf.size(), &res);
  if (res == nullptr) {
    if (!cfg.user_set) {
      u.keep_root = true;
      u.absent_default = true;
      return u;
    }
    return absl::NotFoundError(absl::StrCat(cfg.path, ": [gateway] user '", cfg.user, "' does not exist",
                                            rc != 0 ? absl::StrCat(" (", std::strerror(rc), ")") : std::string(),
                                            ": create it (useradd -r ", cfg.user,
                                            ") or write user = \"\" to keep root"));
  }
  u.uid = pw.pw_uid;
  u.gid = pw.pw_gid;
  return u;
}

std::vector<cap_value_t> KeptCaps(const Config& cfg) {
  if (cfg.mode == "inline") return {CAP_NET_ADMIN, CAP_NET_RAW};
  return {CAP_NET_RAW};
}

absl::Status CheckOne(const fs::path& p, uid_t user_uid, bool has_user, const std::string& user) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return absl::OkStatus();  // missing files are the loader's error
  auto who = [&] { return has_user ? absl::StrCat("root or ", user) : std::string("root"); };
  if (st.st_uid != 0 && !(has_user && st.st_uid == user_uid)) {
    return absl::PermissionDeniedError(absl::StrFormat(
        "%s: refused: owned by uid %u, not by %s (whoever owns it decides what is blocked)", p.string(),
        static_cast<unsigned>(st.st_uid), who()));
  }
  if (st.st_mode & (S_IWGRP | S_IWOTH)) {
    return absl::PermissionDeniedError(absl::StrFormat(
        "%s: refused: writable by %s (mode %04o): only %s may write it (chmod go-w)", p.string(),
        (st.st_mode & S_IWOTH) ? "anyone" : "its group", static_cast<unsigned>(st.st_mode & 07777), who()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckTrustedFiles(const Config& cfg) {
  auto u = ResolveUser(cfg);
  if (!u.ok()) return u.status();
  const bool has_user = !u->keep_root;
  std::vector<fs::path> files = {cfg.path, cfg.lists_dir};
  std::error_code ec;
  for (fs::directory_iterator it(cfg.lists_dir, ec), end; !ec && it != end; it.increment(ec)) {
    files.push_back(it->path());
  }
  for (const fs::path& f : files) {
    absl::Status s = CheckOne(f, u->uid, has_user, u->name);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

uint64_t KeptCapabilityMask(const Config& cfg) {
  uint64_t m = 0;
  for (cap_value_t c : KeptCaps(cfg)) m |= uint64_t{1} << c;
  return m;
}

absl::StatusOr<std::string> DropPrivileges(const Config& cfg) {
  auto u = ResolveUser(cfg);
  if (!u.ok()) return u.status();
  const std::vector<cap_value_t> kept = KeptCaps(cfg);
  const bool root = geteuid() == 0;
  std::string what;
  if (u->keep_root) {
    if (u->absent_default) {
      return absl::StrCat("user '", cfg.user, "' does not exist: running as uid ", geteuid(),
                          " with all its privileges (create the user, or write [gateway] user = \"\" to say so)");
    }
    return absl::StrCat("[gateway] user \"", cfg.user, "\": running as uid ", geteuid(), " with all its privileges");
  }
  if (root) {
    // The bounding set first, while CAP_SETPCAP is still ours.
    for (cap_value_t c = 0; c <= CAP_LAST_CAP; ++c) {
      bool keep = false;
      for (cap_value_t k : kept) keep |= k == c;
      if (!keep && CAP_IS_SUPPORTED(c) && cap_drop_bound(c) != 0) {
        return absl::InternalError(absl::StrCat("cannot drop capability ", c, " from the bounding set: ",
                                                std::strerror(errno)));
      }
    }
    if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) {
      return absl::InternalError(absl::StrCat("prctl(PR_SET_KEEPCAPS): ", std::strerror(errno)));
    }
    gid_t g = u->gid;
    if (setgroups(1, &g) != 0 || setgid(u->gid) != 0 || setuid(u->uid) != 0) {
      return absl::InternalError(absl::StrCat("cannot switch to user ", u->name, ": ", std::strerror(errno)));
    }
    prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
    if (setuid(0) == 0) return absl::InternalError("setuid(0) succeeded after the drop: refusing to run");
    what = absl::StrCat("dropped to user ", u->name, " (uid ", u->uid, ", gid ", u->gid, ")");
  } else if (getuid() == u->uid) {
    what = absl::StrCat("running as user ", u->name, " (uid ", u->uid, ")");
  } else {
    return absl::PermissionDeniedError(absl::StrCat("running as uid ", getuid(), ", neither root nor [gateway] user ",
                                                    u->name, " (uid ", u->uid, "): cannot switch"));
  }
  cap_t caps = cap_init();  // all clear
  if (caps == nullptr) return absl::InternalError(absl::StrCat("cap_init: ", std::strerror(errno)));
  cap_set_flag(caps, CAP_PERMITTED, static_cast<int>(kept.size()), kept.data(), CAP_SET);
  cap_set_flag(caps, CAP_EFFECTIVE, static_cast<int>(kept.size()), kept.data(), CAP_SET);
  int rc = cap_set_proc(caps);
  int err = errno;
  cap_free(caps);
  if (rc != 0) {
    return absl::PermissionDeniedError(absl::StrCat("cannot keep CAP_NET_ADMIN/CAP_NET_RAW: ", std::strerror(err),
                                                    " (started without them?)"));
  }
  if (CAP_AMBIENT_SUPPORTED()) cap_reset_ambient();
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) {
    return absl::InternalError(absl::StrCat("prctl(PR_SET_NO_NEW_PRIVS): ", std::strerror(errno)));
  }
  return absl::StrCat(what, ", keeping ", cfg.mode == "inline" ? "CAP_NET_ADMIN CAP_NET_RAW" : "CAP_NET_RAW",
                      ", no_new_privs");
}

}  // namespace vigie
