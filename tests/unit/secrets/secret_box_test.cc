#include "master/secrets/secret_box.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "tests/unit/temp_dir.h"

namespace gpuq {
namespace {

using ::testing::HasSubstr;

using test::TempDir;

void WriteFile(const std::string& path, const std::string& bytes, mode_t mode) {
  std::ofstream(path, std::ios::binary) << bytes;
  ASSERT_EQ(::chmod(path.c_str(), mode), 0);
}

const std::string kKey(SecretBox::kKeyBytes, 'k');

TEST(SecretBoxTest, CreatesKeyFile0600AndLoadsTheSameKeyAgain) {
  TempDir dir;
  const std::string path = dir.File("secret.key");
  Result<SecretBox> created = SecretBox::LoadOrCreate(path);
  ASSERT_TRUE(created.ok()) << created.status().ToString();

  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(st.st_size, static_cast<off_t>(SecretBox::kKeyBytes));
  EXPECT_EQ(dir.EntryCount(), 1u) << "no temporary file is left behind";

  Result<SecretBox> loaded = SecretBox::LoadOrCreate(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  Result<std::string> opened = loaded->Open(created->Seal("private key"));
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  EXPECT_EQ(*opened, "private key");
}

TEST(SecretBoxTest, CreatesKeyFile0600EvenWithPermissiveUmask) {
  TempDir dir;
  const std::string path = dir.File("secret.key");
  mode_t old = ::umask(0);
  Result<SecretBox> created = SecretBox::LoadOrCreate(path);
  ::umask(old);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST(SecretBoxTest, TwoNewKeyFilesHoldDifferentKeys) {
  TempDir dir;
  SecretBox a = SecretBox::LoadOrCreate(dir.File("a.key")).value();
  SecretBox b = SecretBox::LoadOrCreate(dir.File("b.key")).value();
  Result<std::string> opened = b.Open(a.Seal("x"));
  EXPECT_EQ(opened.status().code(), ErrorCode::kCorruption);
}

TEST(SecretBoxTest, RefusesGroupOrOtherAccessibleKeyFile) {
  TempDir dir;
  for (mode_t mode : {0640, 0604, 0620, 0660, 0644}) {
    const std::string path = dir.File("key" + std::to_string(mode));
    WriteFile(path, kKey, mode);
    Result<SecretBox> box = SecretBox::LoadOrCreate(path);
    ASSERT_FALSE(box.ok()) << std::oct << mode;
    EXPECT_EQ(box.status().code(), ErrorCode::kFailedPrecondition);
    EXPECT_THAT(box.status().message(), HasSubstr(path));
    EXPECT_THAT(box.status().message(), HasSubstr("chmod 600"));
  }
  const std::string ok_path = dir.File("key0400");
  WriteFile(ok_path, kKey, 0400);
  EXPECT_TRUE(SecretBox::LoadOrCreate(ok_path).ok());
}

TEST(SecretBoxTest, NamesTheModeOfAnExposedKeyFile) {
  TempDir dir;
  const std::string path = dir.File("secret.key");
  WriteFile(path, kKey, 0644);
  EXPECT_THAT(SecretBox::LoadOrCreate(path).status().message(), HasSubstr("0644"));
}

TEST(SecretBoxTest, RefusesKeyFileOfTheWrongSize) {
  TempDir dir;
  for (size_t size : {size_t{0}, size_t{31}, size_t{33}, size_t{64}}) {
    const std::string path = dir.File("key" + std::to_string(size));
    WriteFile(path, std::string(size, 'k'), 0600);
    Result<SecretBox> box = SecretBox::LoadOrCreate(path);
    ASSERT_FALSE(box.ok()) << size;
    EXPECT_EQ(box.status().code(), ErrorCode::kCorruption);
    EXPECT_THAT(box.status().message(), HasSubstr(std::to_string(size) + " bytes"));
    EXPECT_EQ(std::filesystem::file_size(path), size) << "a bad key file is never overwritten";
  }
}

TEST(SecretBoxTest, RefusesSymlinkedKeyFile) {
  TempDir dir;
  const std::string target = dir.File("real.key");
  WriteFile(target, kKey, 0600);
  const std::string link = dir.File("secret.key");
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  Result<SecretBox> box = SecretBox::LoadOrCreate(link);
  ASSERT_FALSE(box.ok());
  EXPECT_THAT(box.status().message(), HasSubstr("symbolic link"));
}

TEST(SecretBoxTest, FailsWhenTheFolderIsMissing) {
  TempDir dir;
  Result<SecretBox> box = SecretBox::LoadOrCreate(dir.File("no/such/dir/secret.key"));
  ASSERT_FALSE(box.ok());
  EXPECT_THAT(box.status().message(), HasSubstr("no/such/dir/secret.key"));
}

TEST(SecretBoxTest, SealOpenRoundTrip) {
  SecretBox box = SecretBox::FromKeyForTesting(kKey);
  for (const std::string& plaintext :
       {std::string(), std::string("-----BEGIN OPENSSH PRIVATE KEY-----\n..."),
        std::string("\0binary\xff", 8), std::string(100000, 'x')}) {
    std::string sealed = box.Seal(plaintext);
    EXPECT_EQ(sealed.size(), plaintext.size() + SecretBox::kOverheadBytes);
    if (plaintext.size() > 16) {
      EXPECT_EQ(sealed.find(plaintext), std::string::npos);
    }
    Result<std::string> opened = box.Open(sealed);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    EXPECT_EQ(*opened, plaintext);
  }
}

TEST(SecretBoxTest, SealingTwiceUsesFreshNonces) {
  SecretBox box = SecretBox::FromKeyForTesting(kKey);
  EXPECT_NE(box.Seal("same"), box.Seal("same"));
}

TEST(SecretBoxTest, DetectsTamperingAnywhere) {
  SecretBox box = SecretBox::FromKeyForTesting(kKey);
  const std::string sealed = box.Seal("the private key");
  for (size_t i = 0; i < sealed.size(); ++i) {  // nonce, MAC and ciphertext bytes
    std::string tampered = sealed;
    tampered[i] = static_cast<char>(tampered[i] ^ 0x01);
    Result<std::string> opened = box.Open(tampered);
    ASSERT_FALSE(opened.ok()) << "byte " << i;
    EXPECT_EQ(opened.status().code(), ErrorCode::kCorruption);
  }
  EXPECT_EQ(box.Open(sealed + "x").status().code(), ErrorCode::kCorruption);
  EXPECT_EQ(box.Open(sealed.substr(0, sealed.size() - 1)).status().code(), ErrorCode::kCorruption);
}

TEST(SecretBoxTest, RefusesTooShortInput) {
  SecretBox box = SecretBox::FromKeyForTesting(kKey);
  for (size_t size : {size_t{0}, size_t{1}, SecretBox::kOverheadBytes - 1}) {
    Result<std::string> opened = box.Open(std::string(size, '\0'));
    EXPECT_EQ(opened.status().code(), ErrorCode::kCorruption) << size;
  }
}

TEST(SecretBoxTest, WrongKeyIsCorruption) {
  SecretBox box = SecretBox::FromKeyForTesting(kKey);
  SecretBox other = SecretBox::FromKeyForTesting(std::string(SecretBox::kKeyBytes, 'o'));
  Result<std::string> opened = other.Open(box.Seal("secret"));
  ASSERT_FALSE(opened.ok());
  EXPECT_EQ(opened.status().code(), ErrorCode::kCorruption);
  EXPECT_THAT(opened.status().message(), HasSubstr("another key"));
}

TEST(SecretBoxTest, MovedBoxKeepsWorking) {
  SecretBox box = SecretBox::FromKeyForTesting(kKey);
  std::string sealed = box.Seal("x");
  SecretBox moved = std::move(box);
  EXPECT_EQ(moved.Open(sealed).value(), "x");
}

}  // namespace
}  // namespace gpuq
