# Install-time script (install(SCRIPT), see cmake/VigiePackage.cmake): installs
# the files that live outside the prefix on a system install.
#
# The choice is made when installing, not when configuring, so that one build
# tree serves both:
#   prefix /usr (the .deb, CPack with CPACK_SET_DESTDIR; or `cmake --install
#   --prefix /usr`): the FHS layout, as GNUInstallDirs' CMAKE_INSTALL_FULL_SYSCONFDIR
#   rule has it: /etc/vigie, /etc/logrotate.d/vigie, /lib/systemd/system
#   (Debian 12 packages still ship units in /lib);
#   any other prefix (`cmake --install build --prefix DIR`): all under DIR, so an
#   installed binary finds <prefix>/etc/vigie/vigie.toml beside it.
# DESTDIR is honoured by file(INSTALL) for the absolute destinations.
#
# Inputs (set by an install(CODE) just before): VIGIE_INSTALL_SOURCE_DIR,
# VIGIE_INSTALL_BINARY_DIR.

if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(_vigie_etc "/etc")
  set(_vigie_unit_dir "/lib/systemd/system")
  # The packaged config logs to /var/log/vigie (the unit's only writable path).
  set(_vigie_toml "${VIGIE_INSTALL_BINARY_DIR}/vigie.system.toml")
else()
  set(_vigie_etc "${CMAKE_INSTALL_PREFIX}/etc")
  set(_vigie_unit_dir "${CMAKE_INSTALL_PREFIX}/lib/systemd/system")
  set(_vigie_toml "${VIGIE_INSTALL_BINARY_DIR}/vigie.installed.toml")
endif()

file(INSTALL DESTINATION "${_vigie_etc}/vigie" TYPE FILE RENAME vigie.toml
  FILES "${_vigie_toml}")
file(INSTALL DESTINATION "${_vigie_etc}/vigie/lists" TYPE DIRECTORY
  FILES "${VIGIE_INSTALL_SOURCE_DIR}/lists/apps" FILES_MATCHING PATTERN "*.list")
# The shared-parent guard list `vigie check` reads beside lists/apps.
file(INSTALL DESTINATION "${_vigie_etc}/vigie/lists" TYPE FILE
  FILES "${VIGIE_INSTALL_SOURCE_DIR}/lists/shared_parents.list")
file(INSTALL DESTINATION "${_vigie_etc}/logrotate.d" TYPE FILE RENAME vigie
  FILES "${VIGIE_INSTALL_SOURCE_DIR}/deploy/vigie.logrotate")
file(INSTALL DESTINATION "${_vigie_unit_dir}" TYPE FILE
  FILES "${VIGIE_INSTALL_SOURCE_DIR}/deploy/vigie.service")
