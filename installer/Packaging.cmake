# The Debian 12 packages (CPack, DEB): `cmake --build --preset release --target package`, or
# `cpack --config BUILD_DIR/CPackConfig.cmake -B OUT_DIR` on a tree already built (CI packages
# its ci build: the same install rules, binaries stripped). installer/CMakeLists.txt holds the
# install rules; this, included from the top level (CPack's config lives in the top build dir),
# what the packages are.
#
# Depends: the shared libraries the binaries link (dpkg-shlibdeps), plus what Qt loads at run
# time, which no linker sees: the QML modules the views import, the SQLite driver (the engine's
# and the server's databases), the SVG image plugin (the window icon) and the TLS backend's
# libssl. tests/package/install-test.sh starts the installed programs in a fresh Debian 12 root,
# so a module missing here fails there.

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME clipdeck)
set(CPACK_PACKAGE_VENDOR "Clipdeck")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
# Empty: each package's own description below starts with its synopsis line (CPack would put
# the project's description on top of both).
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "")
set(CPACK_PACKAGE_CONTACT "Clipdeck maintainers <maintainers@users.noreply.r-seed-d3a90424.example>")
set(CPACK_PACKAGE_HOMEPAGE_URL "https://clipdeck.org/")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_INSTALL_DEFAULT_DIRECTORY_PERMISSIONS
    OWNER_READ OWNER_WRITE OWNER_EXECUTE GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)

set(CPACK_DEB_COMPONENT_INSTALL ON)
if(CLIPDECK_BUILD_DESKTOP)
  set(CPACK_COMPONENTS_ALL clipdeck clipdeck-server)
else()
  set(CPACK_COMPONENTS_ALL clipdeck-server) # no desktop app: no `clipdeck` package
endif()
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT) # NAME_VERSION-REVISION_ARCH.deb
set(CPACK_DEBIAN_PACKAGE_RELEASE ${CLIPDECK_DEBIAN_REVISION})
set(CPACK_DEBIAN_PACKAGE_SOURCE clipdeck)
set(CPACK_DEBIAN_PACKAGE_SECTION video)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

set(CPACK_DEBIAN_CLIPDECK_PACKAGE_NAME clipdeck)
set(CPACK_DEBIAN_CLIPDECK_DESCRIPTION "video job monitor with a local FFmpeg engine
Clipdeck runs the long jobs of video editing (exports to presets, editing
proxies, thumbnails and contact sheets, scene detection, waveforms) on a
built-in FFmpeg engine or on a Clipdeck job server, and shows them all in one
live job monitor with progress, ETA, pause, cancel and retry.

This package holds the desktop app, clipdeck, and clipdeck-cli, which probes
media, renders jobs offline and prints job event streams.")
set(CPACK_DEBIAN_CLIPDECK_PACKAGE_DEPENDS
    "qml6-module-qtquick, qml6-module-qtquick-controls, qml6-module-qtquick-templates, \
qml6-module-qtquick-layouts, qml6-module-qtquick-window, qml6-module-qtquick-dialogs, \
qml6-module-qtquick-shapes, qml6-module-qtqml-workerscript, qml6-module-qtqml-models, \
libqt6sql6-sqlite, libqt6svg6, libssl3")
set(CPACK_DEBIAN_CLIPDECK_PACKAGE_RECOMMENDS "qt6-wayland")

set(CPACK_DEBIAN_CLIPDECK-SERVER_PACKAGE_NAME clipdeck-server)
set(CPACK_DEBIAN_CLIPDECK-SERVER_PACKAGE_SECTION net)
set(CPACK_DEBIAN_CLIPDECK-SERVER_DESCRIPTION "Clipdeck job server (REST API and Server-Sent Events)
clipdeck-server takes uploads, runs video jobs (transcodes, proxies,
thumbnails, scene detection, waveforms) on local FFmpeg workers and streams
every job's progress as Server-Sent Events, with replay on reconnect.

It runs as the systemd service clipdeck-server under its own system user,
configured in /etc/clipdeck/server.conf, and listens on loopback: an nginx
site for TLS in front of it is in /usr/share/doc/clipdeck-server/.")
set(CPACK_DEBIAN_CLIPDECK-SERVER_PACKAGE_DEPENDS "adduser, libqt6sql6-sqlite")
set(CPACK_DEBIAN_CLIPDECK-SERVER_PACKAGE_SUGGESTS "nginx")
set(CPACK_DEBIAN_CLIPDECK-SERVER_PACKAGE_CONTROL_EXTRA "${CLIPDECK_SERVER_CONTROL_EXTRA}")

include(CPack)
