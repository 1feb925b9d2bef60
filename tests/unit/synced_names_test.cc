// The name shapes of desktop sync clients: temporaries, and conflict copies by client.
#include "fs_adapters/synced_names.h"

#include <gtest/gtest.h>

#include <string>

namespace cloudbook {
namespace {

TEST(SyncedNamesTest, TemporariesOfSyncClientsAndDesktops) {
  for (const std::string name : {"~$report.docx",
                                 ".~lock.notes.odt#",
                                 "x.tmp",
                                 "X.TMP",
                                 "model.pt.partial",
                                 "data.csv.crdownload",
                                 "a.part",
                                 "b.~tmp",
                                 ".goutputstream-AB12CD",
                                 "desktop.ini",
                                 "Desktop.ini",
                                 "Thumbs.db",
                                 ".DS_Store",
                                 "Icon\r",
                                 ".dropbox",
                                 ".dropbox.attr",
                                 ".dropbox.cache",
                                 ".tmp.drivedownload",
                                 ".tmp.driveupload",
                                 ".stfolder",
                                 ".stversions",
                                 ".du.json.~1f3a",
                                 ".state.json.tmp-0123abcd"}) {
    EXPECT_TRUE(IsSyncClientTemporary(name)) << name;
  }
  for (const std::string name : {"du.json", "tmp", "tmp.json", "partial.csv", "Icon", ".hidden",
                                 "a~b.json", "~notes.txt", ".du.json.~xyz"}) {
    EXPECT_FALSE(IsSyncClientTemporary(name)) << name;
  }
}

TEST(SyncedNamesTest, GoogleDriveNumberedCopies) {
  EXPECT_TRUE(HasConflictCopyShape("du (1).json", "du.json"));
  EXPECT_TRUE(HasConflictCopyShape("du (12).json", "du.json"));
  EXPECT_TRUE(HasConflictCopyShape("README (2)", "README"));
  EXPECT_TRUE(HasConflictCopyShape(".config (1)", ".config"));  // a dot file has no extension
  EXPECT_FALSE(HasConflictCopyShape("du (0).json", "du.json"));
  EXPECT_FALSE(HasConflictCopyShape("du (01).json", "du.json"));
  EXPECT_FALSE(HasConflictCopyShape("du (x).json", "du.json"));
  EXPECT_FALSE(HasConflictCopyShape("du (1).txt", "du.json"));
  EXPECT_FALSE(HasConflictCopyShape("du.json (1)", "du.json"));
  EXPECT_FALSE(HasConflictCopyShape("dux (1).json", "du.json"));
}

TEST(SyncedNamesTest, OneDriveHostCopies) {
  EXPECT_TRUE(HasConflictCopyShape("du-LAPTOP7.json", "du.json"));
  EXPECT_TRUE(HasConflictCopyShape("du-LAPTOP7-2.json", "du.json"));
  EXPECT_TRUE(HasConflictCopyShape("subnet_0-my-pc.pt", "subnet_0.pt"));
  // The shape alone also fits legitimate names: the envelope's name decides (see the back
  // end's tests), which is why these are shapes and not verdicts.
  EXPECT_TRUE(HasConflictCopyShape("du-3.json", "du.json"));
  EXPECT_TRUE(HasConflictCopyShape("agent-a1.json", "agent.json"));
  EXPECT_FALSE(HasConflictCopyShape("du-.json", "du.json"));
  EXPECT_FALSE(HasConflictCopyShape("du-a b.json", "du.json"));
  EXPECT_FALSE(HasConflictCopyShape("du-" + std::string(65, 'h') + ".json", "du.json"));
  EXPECT_FALSE(HasConflictCopyShape("du.json", "du.json"));
}

TEST(SyncedNamesTest, DropboxAndNextcloudConflictedCopies) {
  EXPECT_TRUE(HasConflictCopyShape("du (conflicted copy 2024-03-05).json", "du.json"));
  EXPECT_TRUE(HasConflictCopyShape("du (Jack's conflicted copy 2024-03-05).json", "du.json"));
  EXPECT_TRUE(HasConflictCopyShape("du (Jack's conflicted copy 2024-03-05 (1)).json", "du.json"));
  EXPECT_TRUE(HasConflictCopyShape("du (conflicted copy 2024-03-05 101112).json", "du.json"));
  EXPECT_TRUE(HasConflictCopyShape("du (Conflicted Copy 2024-03-05).json", "du.json"));
  EXPECT_FALSE(HasConflictCopyShape("du (copy).json", "du.json"));
  EXPECT_FALSE(HasConflictCopyShape("du conflicted copy.json", "du.json"));
}

TEST(SyncedNamesTest, SyncthingConflicts) {
  EXPECT_TRUE(HasConflictCopyShape("du.sync-conflict-20240305-101112-ABCDEFG.json", "du.json"));
  EXPECT_FALSE(HasConflictCopyShape("du.sync-conflict-2024 0305.json", "du.json"));
}

TEST(SyncedNamesTest, PreFilterNeverDropsACopy) {
  for (const std::string name :
       {"du (1).json", "du-HOST.json", "du (conflicted copy 2024-03-05).json",
        "du.sync-conflict-20240305-101112-ABCDEFG.json"}) {
    EXPECT_TRUE(MayBeConflictCopy(name)) << name;
  }
  EXPECT_FALSE(MayBeConflictCopy("du_0.json"));
  EXPECT_FALSE(MayBeConflictCopy("assignment.json"));
}

}  // namespace
}  // namespace cloudbook
