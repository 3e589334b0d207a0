# Installed layout and the Debian package (issue 12). Included from the
# top-level CMakeLists.txt after the targets exist.
#
#   cmake --install build --prefix DIR    everything under DIR (DIR/bin/vigie,
#                                         DIR/etc/vigie/vigie.toml, ...)
#   cpack --config build/CPackConfig.cmake   build/vigie_<version>_<arch>.deb
#   (or: cmake --build build --target package)
#
# Package layout (prefix /usr):
#   /usr/bin/vigie                   the binary. /usr/bin, not /usr/sbin: most
#                                    subcommands (replay, lookup, explain,
#                                    check-config, lists stats) are for any user,
#                                    only `run` needs capabilities (as tcpdump,
#                                    also /usr/bin with a section 8 page)
#   /etc/vigie/vigie.toml            conffile; [lists] dir = "lists/apps",
#                                    relative to the file: /etc/vigie/lists/apps
#   /etc/vigie/lists/apps/*.list     conffiles
#   /etc/logrotate.d/vigie           conffile (deploy/vigie.logrotate)
#   /lib/systemd/system/vigie.service
#   /usr/share/vigie/rules/          vigie-iptables.sh, vigie.nft, README.md:
#                                    architecture-independent, run by the operator
#   /usr/share/man/man8/vigie.8.gz
#   /usr/share/doc/vigie/README.md, README.operator.md (deploy/README.md)
# Maintainer scripts: deploy/debian/{postinst,prerm,postrm}.

# ---- Configs -------------------------------------------------------------------
# deploy/vigie.toml is written for the source tree (lists in ../lists/apps, log
# on stdout). Installed copies get their lists dir beside them; the system
# (packaged) copy also logs to /var/log/vigie. A rewrite that no longer matches
# deploy/vigie.toml is a configure error, not a silently wrong package.
function(vigie_rewrite_toml text from to out_var)
  string(FIND "${text}" "${from}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "deploy/vigie.toml: no line '${from}' to rewrite for the installed config")
  endif()
  string(REPLACE "${from}" "${to}" text "${text}")
  set(${out_var} "${text}" PARENT_SCOPE)
endfunction()

set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/deploy/vigie.toml)
file(READ ${CMAKE_SOURCE_DIR}/deploy/vigie.toml _vigie_toml)
vigie_rewrite_toml("${_vigie_toml}" "dir = \"../lists/apps\"" "dir = \"lists/apps\"" _vigie_installed_toml)
vigie_rewrite_toml("${_vigie_installed_toml}" "path = \"-\" "
  "path = \"/var/log/vigie/decisions.jsonl\" " _vigie_system_toml)
file(WRITE ${CMAKE_BINARY_DIR}/vigie.installed.toml "${_vigie_installed_toml}")
file(WRITE ${CMAKE_BINARY_DIR}/vigie.system.toml "${_vigie_system_toml}")

# ---- Install rules ---------------------------------------------------------------
# (The binary: install(TARGETS vigie) in gateway/CMakeLists.txt, to bin.)
install(CODE "set(VIGIE_INSTALL_SOURCE_DIR \"${CMAKE_SOURCE_DIR}\")
set(VIGIE_INSTALL_BINARY_DIR \"${CMAKE_BINARY_DIR}\")")
install(SCRIPT ${CMAKE_SOURCE_DIR}/cmake/VigieInstallSystem.cmake)

install(PROGRAMS deploy/rules/vigie-iptables.sh DESTINATION share/vigie/rules)
install(FILES deploy/rules/vigie.nft deploy/rules/README.md DESTINATION share/vigie/rules)
install(FILES README.md DESTINATION share/doc/vigie)
install(FILES deploy/README.md DESTINATION share/doc/vigie RENAME README.operator.md)

# Debian policy 12.1: man pages gzip-compressed, -n for a reproducible file.
find_program(VIGIE_GZIP gzip REQUIRED)
add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/vigie.8.gz
  COMMAND ${VIGIE_GZIP} -9n -c ${CMAKE_SOURCE_DIR}/deploy/vigie.8 > ${CMAKE_BINARY_DIR}/vigie.8.gz
  DEPENDS ${CMAKE_SOURCE_DIR}/deploy/vigie.8
  COMMENT "Compressing the man page vigie.8")
add_custom_target(vigie_man ALL DEPENDS ${CMAKE_BINARY_DIR}/vigie.8.gz)
install(FILES ${CMAKE_BINARY_DIR}/vigie.8.gz DESTINATION share/man/man8)

# ---- conffiles -----------------------------------------------------------------------
# Every file under /etc: dpkg keeps the operator's changes across upgrades.
file(GLOB _vigie_lists CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/lists/apps/*.list)
set(_vigie_conffiles "/etc/vigie/vigie.toml\n/etc/logrotate.d/vigie\n/etc/vigie/lists/shared_parents.list\n")
foreach(l IN LISTS _vigie_lists)
  get_filename_component(n ${l} NAME)
  string(APPEND _vigie_conffiles "/etc/vigie/lists/apps/${n}\n")
endforeach()
file(WRITE ${CMAKE_BINARY_DIR}/package/conffiles "${_vigie_conffiles}")

# ---- CPack: DEB ------------------------------------------------------------------------
set(VIGIE_PACKAGE_CONTACT "Vigie maintainers <vigie@localhost>"
  CACHE STRING "Maintainer field of the .deb (name <email>)")
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME vigie)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "${VIGIE_PACKAGE_CONTACT}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
  "gateway that blocks banned apps by DNS name, TLS/QUIC SNI and HTTP Host")
# The body (dpkg's extended description; CPack puts the summary line first).
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "Vigie sees the traffic of managed-device subnets on a gateway (NFQUEUE
inline or libpcap monitor), reads the name of each connection (DNS, TLS
ClientHello SNI, QUIC Initial SNI, HTTP Host), matches it against per-app
domain lists and blocks, logs or allows it per policy, with per-device
exceptions. Every decision is a JSON line.")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # vigie_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Library dependencies come from dpkg-shlibdeps (dpkg-dev); adduser for postinst.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "nftables | iptables, logrotate")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
  ${CMAKE_BINARY_DIR}/package/conffiles
  ${CMAKE_SOURCE_DIR}/deploy/debian/postinst
  ${CMAKE_SOURCE_DIR}/deploy/debian/prerm
  ${CMAKE_SOURCE_DIR}/deploy/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)  # 0755 scripts, 0644 conffiles
# Install with prefix /usr into a DESTDIR, so that VigieInstallSystem.cmake sees
# /usr and writes /etc/vigie, not /usr/etc/vigie.
# (With CPACK_SET_DESTDIR CPack installs with CPACK_INSTALL_PREFIX.)
set(CPACK_SET_DESTDIR ON)
set(CPACK_INSTALL_PREFIX /usr)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
include(CPack)
