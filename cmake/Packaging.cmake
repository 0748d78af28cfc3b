# Debian packages of the hub side (docs/packaging.md), built with CPack:
#   cmake --build BUILD --target package      (or: cd BUILD && cpack)
# gives BUILD/homesafe-gateway_<version>_<arch>.deb (the daemon, its systemd unit, the default
# hub config and the local broker's Mosquitto snippet) and BUILD/homesafe-sim_<version>_<arch>.deb
# (device, household and modem simulators for installers and demos). <arch> is the target's:
# arm64 when cross-building with cmake/toolchains/aarch64-linux-gnu.cmake, else amd64.
# The township service is not packaged here.
include(GNUInstallDirs)

# Installed per component; the targets' own install() rules (component "Unspecified") are not
# packaged.
install(TARGETS homesafe-gateway RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT gateway)
install(FILES gateway/systemd/homesafe-gateway.service DESTINATION /lib/systemd/system
        COMPONENT gateway)
install(FILES packaging/etc/hub.yaml DESTINATION /etc/homesafe COMPONENT gateway)
install(FILES packaging/mosquitto-homesafe.conf DESTINATION /etc/mosquitto/conf.d
        RENAME homesafe.conf COMPONENT gateway)
install(FILES README.md docs/packaging.md docs/config.md docs/gateway.md
        DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/homesafe-gateway COMPONENT gateway)
install(FILES examples/h001.yaml DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/homesafe-gateway/examples
        COMPONENT gateway)
install(TARGETS homesafe-sim RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT sim)
install(FILES firmware-sim/README.md DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/homesafe-sim
        COMPONENT sim)

if(CMAKE_SYSTEM_PROCESSOR MATCHES "^(aarch64|arm64)$")
  set(homesafe_deb_arch arm64)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  set(homesafe_deb_arch amd64)
else()
  set(homesafe_deb_arch "${CMAKE_SYSTEM_PROCESSOR}")
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME homesafe)
set(CPACK_PACKAGE_VENDOR homesafe)
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_CONTACT "homesafe maintainers <homesafe@localhost>")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_DIRECTORY "${PROJECT_BINARY_DIR}/packages")
set(CPACK_COMPONENTS_ALL gateway sim)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # NAME_VERSION_ARCH.deb
set(CPACK_DEBIAN_PACKAGE_ARCHITECTURE "${homesafe_deb_arch}")
set(CPACK_DEBIAN_PACKAGE_SECTION misc)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)
# Hubs have little storage: the packaged binaries are stripped (the build tree keeps symbols).
set(CPACK_STRIP_FILES ON)
# Maintainer scripts and conffiles keep their modes (0755 scripts, 0644 conffiles).
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

# Run-time libraries by their Debian 12 package names (named, not from dpkg-shlibdeps, which
# would need the target architecture's objdump when cross-building).
string(CONCAT homesafe_runtime_depends
       "libc6 (>= 2.36), libstdc++6 (>= 12), libgcc-s1, libfmt9, libyaml-cpp0.7, "
       "libpaho-mqtt1.3, libpaho-mqttpp3-1")

set(CPACK_DEBIAN_GATEWAY_PACKAGE_NAME homesafe-gateway)
set(CPACK_DEBIAN_GATEWAY_DESCRIPTION
    "homesafe hub gateway: alarms, escalation and the township uplink
The hub daemon of homesafe. It turns the messages of smoke, gas, water and door sensors and
call buttons (native, Zigbee2MQTT, Tasmota, Shelly, ESPHome, wmbusmeters) on the hub's local
Mosquitto broker into alerts, notifies caregivers (MQTT, SMS through the hub's modem, webhooks)
along escalation ladders that survive power cuts, and forwards everything to the township.
Includes the systemd unit, a template hub config and the local broker's Mosquitto settings;
`homesafe-gateway setup` writes the broker's per-device passwords and ACL.")
string(CONCAT CPACK_DEBIAN_GATEWAY_PACKAGE_DEPENDS
       "${homesafe_runtime_depends}, libssl3 (>= 3.0.0), libsqlite3-0 (>= 3.40), "
       "mosquitto (>= 2.0), adduser, tzdata")
set(CPACK_DEBIAN_GATEWAY_PACKAGE_RECOMMENDS "mosquitto-clients")
set(CPACK_DEBIAN_GATEWAY_PACKAGE_CONTROL_EXTRA
    "${PROJECT_SOURCE_DIR}/packaging/debian/conffiles"
    "${PROJECT_SOURCE_DIR}/packaging/debian/postinst"
    "${PROJECT_SOURCE_DIR}/packaging/debian/prerm"
    "${PROJECT_SOURCE_DIR}/packaging/debian/postrm")

set(CPACK_DEBIAN_SIM_PACKAGE_NAME homesafe-sim)
set(CPACK_DEBIAN_SIM_DESCRIPTION
    "homesafe simulators: devices, households and a 4G modem
homesafe-sim publishes exactly what homesafe's devices publish (smoke, gas, call button,
meters ...), simulates whole households with time acceleration, and emulates a cellular
modem's AT interface on a pseudo-terminal, for installers testing a hub and for demos.")
set(CPACK_DEBIAN_SIM_PACKAGE_DEPENDS "${homesafe_runtime_depends}")
set(CPACK_DEBIAN_SIM_PACKAGE_SECTION misc)

include(CPack)
