// Reading rclone listings, and the choices the rclone back end makes on them: the newest of
// duplicated names (Drive), and whether a missing name is only being replaced.
#include "fs_adapters/rclone_listing.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace cloudbook {
namespace {

constexpr int64_t kSecond = 1000000000;

RcloneEntry File(const std::string& name, int64_t modified, const std::string& id = "") {
  RcloneEntry entry;
  entry.name = name;
  entry.size = 10;
  entry.modified_unix_ns = modified;
  entry.id = id;
  return entry;
}

RcloneEntry Folder(const std::string& name) {
  RcloneEntry entry;
  entry.name = name;
  entry.is_folder = true;
  return entry;
}

TEST(RcloneListingTest, ParsesLsjsonItems) {
  const nlohmann::json reply = nlohmann::json::parse(R"({"list": [
    {"Path": "p/a", "Name": "a", "Size": -1, "MimeType": "inode/directory",
     "ModTime": "2026-12-04T13:37:19Z", "IsDir": true},
    {"Path": "p/b.json", "Name": "b.json", "Size": 42, "ModTime": "2026-12-04T13:37:20.25Z",
     "IsDir": false, "ID": "1xYz"}]})");
  const Result<std::vector<RcloneEntry>> entries = ParseRcloneList(reply);
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].name, "a");
  EXPECT_TRUE((*entries)[0].is_folder);
  EXPECT_EQ((*entries)[0].size, 0u);
  EXPECT_EQ((*entries)[1].name, "b.json");
  EXPECT_FALSE((*entries)[1].is_folder);
  EXPECT_EQ((*entries)[1].size, 42u);
  EXPECT_EQ((*entries)[1].modified_unix_ns, 1796391440LL * kSecond + kSecond / 4);
  EXPECT_EQ((*entries)[1].id, "1xYz");

  EXPECT_FALSE(ParseRcloneList(nlohmann::json::parse(R"({"items": []})")).ok());
  EXPECT_EQ(
      ParseRcloneEntry(nlohmann::json::parse(R"({"Name": "x", "IsDir": false})")).status().code(),
      Status::Code::kCorruption);
  EXPECT_FALSE(
      ParseRcloneEntry(nlohmann::json::parse(
                           R"({"Name": "x", "IsDir": false, "Size": 1, "ModTime": "yesterday"})"))
          .ok());
}

TEST(RcloneDuplicatesTest, TheNewestCopyCountsAndTheOthersGo) {
  const std::vector<RcloneEntry> entries = {
      File("state.json", 5 * kSecond, "old"), File("other.json", 9 * kSecond),
      File("state.json", 7 * kSecond, "new"), File("state.json", 2 * kSecond, "oldest")};
  const std::optional<DuplicateChoice> choice = ChooseEntry(entries, "state.json");
  ASSERT_TRUE(choice.has_value());
  EXPECT_EQ(choice->keep.id, "new");
  ASSERT_EQ(choice->older.size(), 2u);
  EXPECT_EQ(choice->older[0].id, "old");
  EXPECT_EQ(choice->older[1].id, "oldest");
  EXPECT_EQ(DuplicateRemovalCutoff(*choice), 6 * kSecond);

  EXPECT_FALSE(ChooseEntry(entries, "missing.json").has_value());
  const std::optional<DuplicateChoice> single = ChooseEntry(entries, "other.json");
  ASSERT_TRUE(single.has_value());
  EXPECT_TRUE(single->older.empty());
  EXPECT_FALSE(DuplicateRemovalCutoff(*single).has_value());
}

TEST(RcloneDuplicatesTest, TiesPickTheSameCopyEverywhereAndAreNotRemoved) {
  const std::vector<RcloneEntry> one_order = {File("f", kSecond, "a"), File("f", kSecond, "b")};
  const std::vector<RcloneEntry> other_order = {File("f", kSecond, "b"), File("f", kSecond, "a")};
  EXPECT_EQ(ChooseEntry(one_order, "f")->keep.id, "b");
  EXPECT_EQ(ChooseEntry(other_order, "f")->keep.id, "b");
  // Within the margin of rclone's clock-based filter: left alone rather than risk the newest.
  const std::vector<RcloneEntry> close = {File("f", 10 * kSecond, "a"),
                                          File("f", 10 * kSecond + kSecond / 2, "b")};
  EXPECT_FALSE(DuplicateRemovalCutoff(*ChooseEntry(close, "f")).has_value());
}

TEST(RcloneDuplicatesTest, AFolderIsNeverRemovedForAFileOfItsName) {
  const std::vector<RcloneEntry> entries = {Folder("x"), File("x", kSecond)};
  const std::optional<DuplicateChoice> choice = ChooseEntry(entries, "x");
  ASSERT_TRUE(choice.has_value());
  EXPECT_FALSE(choice->keep.is_folder);
  EXPECT_TRUE(choice->older.empty());
  const std::optional<DuplicateChoice> folder = ChooseEntry({Folder("d"), Folder("d")}, "d");
  ASSERT_TRUE(folder.has_value());
  EXPECT_TRUE(folder->keep.is_folder);
  EXPECT_TRUE(folder->older.empty());
}

TEST(RcloneDuplicatesTest, ListingNamesEachEntryOnceSortedWithoutTemporaries) {
  const std::vector<RcloneEntry> entries = {File("b.json", 3 * kSecond),
                                            File("a.json", kSecond),
                                            File("b.json", 5 * kSecond),
                                            Folder("sub"),
                                            File(".a.json.tmp-1f2e", kSecond),
                                            Folder("sub"),
                                            File("c.json", kSecond)};
  const CollapsedListing listing = CollapseListing(entries);
  EXPECT_EQ(listing.names, (std::vector<std::string>{"a.json", "b.json", "c.json", "sub"}));
  ASSERT_EQ(listing.duplicates.size(), 1u);
  EXPECT_EQ(listing.duplicates[0].keep.name, "b.json");
  EXPECT_EQ(listing.duplicates[0].keep.modified_unix_ns, 5 * kSecond);
  ASSERT_EQ(listing.duplicates[0].older.size(), 1u);
}

TEST(RcloneWriteInFlightTest, AFreshTemporaryOrTheNameItselfMeansLookAgain) {
  const int64_t now = 1000 * kSecond;
  const int64_t max_age = 600 * kSecond;
  // The old file was deleted, the new one still has its temporary name.
  EXPECT_TRUE(ShowsWriteInFlight({File(".state.json.tmp-ab12", now - kSecond)}, "state.json", now,
                                 max_age));
  // The move landed between our stat and this listing.
  EXPECT_TRUE(ShowsWriteInFlight({File("state.json", now)}, "state.json", now, max_age));
  // A crashed writer's temporary, or another file's: the name is just missing.
  EXPECT_FALSE(ShowsWriteInFlight({File(".state.json.tmp-ab12", now - 700 * kSecond)}, "state.json",
                                  now, max_age));
  EXPECT_FALSE(ShowsWriteInFlight({File(".other.json.tmp-ab12", now), File("state.jsonx", now)},
                                  "state.json", now, max_age));
  EXPECT_FALSE(ShowsWriteInFlight({}, "state.json", now, max_age));
}

}  // namespace
}  // namespace cloudbook
