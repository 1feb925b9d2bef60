#include "predict/input_format.h"

#include <boost/filesystem.hpp>
#include <cstdlib>
#include <fstream>

#include "shared/data/image_decode.h"

namespace cloudbook {

namespace {

enum class Content { kIdx, kGzip, kNpy, kZip, kImage, kText, kEmpty };

Result<std::string> ReadHead(const std::string& path, size_t bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    boost::system::error_code error;
    if (!boost::filesystem::exists(path, error)) return Status::NotFound(path + ": no such file");
    return Status::IoError(path + ": cannot open for reading");
  }
  std::string head(bytes, '\0');
  in.read(&head[0], static_cast<std::streamsize>(bytes));
  head.resize(static_cast<size_t>(in.gcount()));
  return head;
}

Content Sniff(const std::string& head) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(head[i]); };
  if (head.empty()) return Content::kEmpty;
  if (head.size() >= 2 && byte(0) == 0x1f && byte(1) == 0x8b) return Content::kGzip;
  if (head.rfind("\x93NUMPY", 0) == 0) return Content::kNpy;
  if (head.rfind("PK\x03\x04", 0) == 0 || head.rfind("PK\x05\x06", 0) == 0) return Content::kZip;
  if (SniffImageFormat(head) != ImageFormat::kUnknown) return Content::kImage;
  // IDX: two zero bytes, a type code (ubyte .. float64), then 1 to 255 dimensions.
  if (head.size() >= 4 && byte(0) == 0 && byte(1) == 0 && byte(2) >= 0x08 && byte(2) <= 0x0E &&
      byte(3) >= 1) {
    return Content::kIdx;
  }
  return Content::kText;
}

bool Fits(Content content, const std::string& format) {
  switch (content) {
    case Content::kIdx:
    case Content::kGzip:
      return format == "idx";
    case Content::kNpy:
      return format == "npy";
    case Content::kZip:
      return format == "npz" || format == "tensor";
    case Content::kText:
      return format == "csv" || format == "sequences";
    case Content::kImage:
      return format == "images";
    case Content::kEmpty:
      return false;
  }
  return false;
}

bool EndsWith(const std::string& text, const std::string& suffix) {
  return text.size() >= suffix.size() &&
         text.compare(text.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// A CSV file the program does not describe: a first line holding a field that is not a
// number is a header; ';' or a tab separates when the line has no ','.
void SniffCsv(const std::string& head, ArraySource& source) {
  const std::string line = head.substr(0, head.find_first_of("\r\n"));
  if (line.find(',') == std::string::npos) {
    if (line.find(';') != std::string::npos) source.delimiter = ';';
    if (line.find('\t') != std::string::npos) source.delimiter = '\t';
  }
  source.header = false;
  size_t begin = 0;
  while (begin <= line.size()) {
    size_t end = line.find(source.delimiter, begin);
    if (end == std::string::npos) end = line.size();
    std::string field = line.substr(begin, end - begin);
    const size_t first = field.find_first_not_of(" \"");
    const size_t last = field.find_last_not_of(" \"");
    field = first == std::string::npos ? "" : field.substr(first, last - first + 1);
    char* rest = nullptr;
    std::strtod(field.c_str(), &rest);
    if (field.empty() || rest == nullptr || *rest != '\0') source.header = true;
    begin = end + 1;
  }
}

}  // namespace

Result<InputFormat> ResolveInputFormat(const std::string& path, const std::string& requested,
                                       const ArraySource* program, bool program_images) {
  boost::system::error_code error;
  const bool folder = boost::filesystem::is_directory(path, error);
  InputFormat resolved;
  if (folder || requested == "images") {
    if (!requested.empty() && requested != "images") {
      return Status::InvalidArgument(path + " is a folder: only --format images reads folders");
    }
    resolved.format = "images";
    return resolved;
  }
  CB_ASSIGN_OR_RETURN(const std::string head, ReadHead(path, 4096));
  if (!requested.empty()) {
    resolved.format = requested;
  } else {
    const Content content = Sniff(head);
    if (program_images && content == Content::kImage) {
      resolved.format = "images";
    } else if (program != nullptr && Fits(content, program->format)) {
      resolved.format = program->format;
    } else {
      switch (content) {
        case Content::kIdx:
        case Content::kGzip:
          resolved.format = "idx";
          break;
        case Content::kNpy:
          resolved.format = "npy";
          break;
        case Content::kZip:
          resolved.format = EndsWith(path, ".npz") ? "npz" : "tensor";
          break;
        case Content::kImage:
          resolved.format = "images";
          break;
        case Content::kText:
          resolved.format = "csv";
          break;
        case Content::kEmpty:
          return Status::InvalidArgument(path + ": empty file");
      }
    }
  }
  if (program != nullptr && program->format == resolved.format) {
    resolved.source = *program;
  } else {
    resolved.source.format = resolved.format;
    if (resolved.format == "csv") SniffCsv(head, resolved.source);
  }
  resolved.source.path.clear();
  return resolved;
}

}  // namespace cloudbook
