#include "standin/models.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "support/test_support.hpp"

namespace standin {
namespace {

TEST(Sha256, KnownVector) {
  test::TempDir dir;
  test::WriteBytes(dir / "abc", "abc");
  auto digest = Sha256File(dir / "abc");
  ASSERT_TRUE(digest.ok());
  EXPECT_EQ(*digest, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(ModelStore, FindsVerifiedModels) {
  auto store = ModelStore::Open();
  ASSERT_TRUE(store.ok()) << store.status().message();
  auto path = store->Path("blazeface_back_256.onnx");
  ASSERT_TRUE(path.ok()) << path.status().message();
  EXPECT_TRUE(std::filesystem::is_regular_file(*path));
}

// A folder with its own manifest naming one file, to exercise missing and corrupt files.
struct FakeStore {
  test::TempDir dir;
  FakeStore() {
    test::WriteBytes(dir / "manifest.json", R"({"files": [{"name": "m.onnx",
      "sha256": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}]})");
  }
  test::TempDir cache;
  Expected<std::filesystem::path> Open() const {
    auto store = ModelStore::Open({.search_path = {dir.path()}, .verify_cache = cache / "v.json"});
    if (!store.ok()) return store.status();
    return store->Path("m.onnx");
  }
};

TEST(ModelStore, MissingFileNamesItAndTheRestoreCommand) {
  FakeStore fake;
  auto path = fake.Open();
  ASSERT_FALSE(path.ok());
  EXPECT_EQ(path.status().code(), ErrorCode::kModelMissing);
  EXPECT_NE(path.status().message().find("m.onnx"), std::string::npos);
  EXPECT_NE(path.status().message().find("standin-fetch-models"), std::string::npos);
}

TEST(ModelStore, CorruptFileIsRejected) {
  FakeStore fake;
  test::WriteBytes(fake.dir / "m.onnx", "abd");
  auto path = fake.Open();
  ASSERT_FALSE(path.ok());
  EXPECT_EQ(path.status().code(), ErrorCode::kModelMissing);
  EXPECT_NE(path.status().message().find("corrupt"), std::string::npos);
  test::WriteBytes(fake.dir / "m.onnx", "abc");
  EXPECT_TRUE(fake.Open().ok());
}

TEST(ModelStore, CachedVerificationStillCatchesAChangedFile) {
  FakeStore fake;
  test::WriteBytes(fake.dir / "m.onnx", "abc");
  ASSERT_TRUE(fake.Open().ok());  // hashed, remembered
  EXPECT_NE(test::ReadBytes(fake.cache / "v.json").find("ba7816bf"), std::string::npos);
  ASSERT_TRUE(fake.Open().ok());  // from the cache
  // Same size, different bytes: the file's ctime changes, so it is hashed again and refused.
  // (File times advance in clock ticks of a few milliseconds: let one pass.)
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  test::WriteBytes(fake.dir / "m.onnx", "abd");
  auto path = fake.Open();
  ASSERT_FALSE(path.ok());
  EXPECT_EQ(path.status().code(), ErrorCode::kModelMissing);
}

TEST(ModelStore, MissingManifest) {
  test::TempDir empty;
  auto store = ModelStore::Open({.search_path = {empty.path()}});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), ErrorCode::kModelMissing);
}

}  // namespace
}  // namespace standin
