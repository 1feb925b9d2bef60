// Strings that came from the shared folder (other machines' files and file names), made safe
// to print on a terminal or in a log: control characters (C0, DEL, C1) and bytes that are not
// valid UTF-8 are shown as \xNN; valid printable UTF-8 is kept as is. Idempotent:
// Printable(Printable(s)) == Printable(s), so a reason that quotes a name may be made
// printable again as a whole.
// Pure functions, thread-safe, never fail.
#pragma once

#include <string>
#include <string_view>

namespace cloudbook {

// `text` with every control character and invalid UTF-8 byte escaped (\xNN).
std::string Printable(std::string_view text);

// True when Printable(text) == text: no control characters, valid UTF-8.
bool IsPrintable(std::string_view text);

// True for a host name or address as announcements carry it: 1 to 255 characters of
// [A-Za-z0-9.-_:] (names, IPv4, IPv6 without brackets), not starting with '-' or '.'.
bool IsHostNameOrAddress(std::string_view host);

}  // namespace cloudbook
