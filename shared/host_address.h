// The address an agent publishes in its endpoint: one peers can reach. A non-loopback IPv4
// address of an interface that is up; with several, the one in the network range the user named
// (--subnet 10.0.0.0/24), else the one of the default route, else the first by interface name;
// with none, 127.0.0.1 (only agents on this machine can reach it: logged as a warning).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "shared/status.h"

namespace cloudbook {

struct Ipv4Network {
  uint32_t network = 0;  // host byte order, host bits cleared
  int prefix = 0;        // 0..32
};

// "a.b.c.d/n"; host bits are ignored ("10.0.0.7/24" is 10.0.0.0/24).
Result<Ipv4Network> ParseIpv4Network(const std::string& cidr);
// Dotted quad to host byte order; false when not an IPv4 literal.
bool ParseIpv4(const std::string& text, uint32_t* address);
bool InIpv4Network(const std::string& address, const Ipv4Network& range);

struct InterfaceAddress {
  std::string interface;  // e.g. "eth0"
  std::string address;    // dotted quad
};

// IPv4 addresses of interfaces that are up and not loopback, sorted by interface name.
std::vector<InterfaceAddress> ListInterfaceAddresses();
// The local address the kernel would use to reach the outside (a connected UDP socket sends
// nothing), or "" without a default route.
std::string DefaultRouteAddress();

struct AddressChoice {
  std::string address;
  std::string reason;  // for the log: why this one
  bool loopback_fallback = false;
  bool network_unmatched = false;  // a network range was given and no address was in it
};

// The pure decision (tested with made-up interfaces).
AddressChoice ChooseAddress(const std::vector<InterfaceAddress>& candidates,
                            const std::optional<Ipv4Network>& range,
                            const std::string& default_route);
// The decision on this machine; `range` ("a.b.c.d/n", the user's --subnet) may be empty.
Result<AddressChoice> ChoosePublishedAddress(const std::string& range);

}  // namespace cloudbook
