#include "shared/host_address.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

namespace cloudbook {

namespace {

uint32_t Mask(int prefix) { return prefix == 0 ? 0u : ~0u << (32 - prefix); }

std::string Join(const std::vector<InterfaceAddress>& candidates) {
  std::string text;
  for (const auto& candidate : candidates) {
    text += (text.empty() ? "" : ", ") + candidate.address + " (" + candidate.interface + ")";
  }
  return text;
}

}  // namespace

bool ParseIpv4(const std::string& text, uint32_t* address) {
  in_addr parsed{};
  if (::inet_pton(AF_INET, text.c_str(), &parsed) != 1) return false;
  *address = ntohl(parsed.s_addr);
  return true;
}

Result<Ipv4Network> ParseIpv4Network(const std::string& cidr) {
  const auto slash = cidr.find('/');
  const auto invalid = [&] {
    return Status::InvalidArgument("subnet '" + cidr +
                                   "' is not IPv4 CIDR notation such as 10.0.0.0/24");
  };
  if (slash == std::string::npos || slash + 1 >= cidr.size()) return invalid();
  uint32_t address = 0;
  if (!ParseIpv4(cidr.substr(0, slash), &address)) return invalid();
  const std::string prefix_text = cidr.substr(slash + 1);
  if (prefix_text.size() > 2 || prefix_text.find_first_not_of("0123456789") != std::string::npos) {
    return invalid();
  }
  const int prefix = std::atoi(prefix_text.c_str());
  if (prefix > 32) return invalid();
  return Ipv4Network{address & Mask(prefix), prefix};
}

bool InIpv4Network(const std::string& address, const Ipv4Network& range) {
  uint32_t value = 0;
  if (!ParseIpv4(address, &value)) return false;
  return (value & Mask(range.prefix)) == range.network;
}

std::vector<InterfaceAddress> ListInterfaceAddresses() {
  std::vector<InterfaceAddress> found;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return found;
  for (const ifaddrs* entry = list; entry != nullptr; entry = entry->ifa_next) {
    if (entry->ifa_addr == nullptr || entry->ifa_addr->sa_family != AF_INET) continue;
    if ((entry->ifa_flags & IFF_UP) == 0 || (entry->ifa_flags & IFF_LOOPBACK) != 0) continue;
    char text[INET_ADDRSTRLEN] = {};
    const auto* address = reinterpret_cast<const sockaddr_in*>(entry->ifa_addr);
    if (::inet_ntop(AF_INET, &address->sin_addr, text, sizeof text) == nullptr) continue;
    found.push_back({entry->ifa_name, text});
  }
  ::freeifaddrs(list);
  std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
    return a.interface != b.interface ? a.interface < b.interface : a.address < b.address;
  });
  return found;
}

std::string DefaultRouteAddress() {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "";
  sockaddr_in outside{};
  outside.sin_family = AF_INET;
  outside.sin_port = htons(9);
  ::inet_pton(AF_INET, "192.0.2.1", &outside.sin_addr);  // TEST-NET-1: never routed for real
  std::string result;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&outside), sizeof outside) == 0) {
    sockaddr_in local{};
    socklen_t length = sizeof local;
    char text[INET_ADDRSTRLEN] = {};
    if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &length) == 0 &&
        ::inet_ntop(AF_INET, &local.sin_addr, text, sizeof text) != nullptr) {
      result = text;
    }
  }
  ::close(fd);
  return result;
}

AddressChoice ChooseAddress(const std::vector<InterfaceAddress>& candidates,
                            const std::optional<Ipv4Network>& range,
                            const std::string& default_route) {
  AddressChoice choice;
  if (candidates.empty()) {
    choice.address = "127.0.0.1";
    choice.loopback_fallback = true;
    choice.reason =
        "no interface has a non-loopback IPv4 address: publishing 127.0.0.1, which "
        "only agents on this machine can reach";
    return choice;
  }
  if (range) {
    for (const auto& candidate : candidates) {
      if (InIpv4Network(candidate.address, *range)) {
        choice.address = candidate.address;
        choice.reason = candidate.interface + " is in the requested subnet";
        return choice;
      }
    }
    choice.network_unmatched = true;
  }
  const std::string prefix =
      choice.network_unmatched
          ? "no address is in the requested subnet (addresses: " + Join(candidates) + "); "
          : "";
  for (const auto& candidate : candidates) {
    if (candidate.address == default_route) {
      choice.address = candidate.address;
      choice.reason = prefix + candidate.interface + " carries the default route";
      return choice;
    }
  }
  choice.address = candidates.front().address;
  choice.reason =
      prefix + "first interface with an IPv4 address (" + candidates.front().interface + ")";
  if (candidates.size() > 1) {
    choice.reason += "; choose another with --subnet (addresses: " + Join(candidates) + ")";
  }
  return choice;
}

Result<AddressChoice> ChoosePublishedAddress(const std::string& range) {
  std::optional<Ipv4Network> parsed;
  if (!range.empty()) {
    CB_ASSIGN_OR_RETURN(parsed, ParseIpv4Network(range));
  }
  return ChooseAddress(ListInterfaceAddresses(), parsed, DefaultRouteAddress());
}

}  // namespace cloudbook
