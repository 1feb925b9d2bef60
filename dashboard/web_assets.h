// The page's files (dashboard/web/), compiled into the executable so that
// cloudbook-dashboard runs from anywhere (dashboard/embed_web_assets.cmake makes the table).
#pragma once

#include <string_view>

namespace cloudbook {

struct WebAsset {
  std::string_view path;  // "/", "/app.js", ...
  std::string_view content_type;
  std::string_view body;
};

// Null when `path` is not one of the page's files.
const WebAsset* FindWebAsset(std::string_view path);

}  // namespace cloudbook
