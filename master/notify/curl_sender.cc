#include "master/notify/curl_sender.h"

#include <curl/curl.h>

#include <cstring>
#include <ctime>
#include <mutex>
#include <nlohmann/json.hpp>

#include "common/base64.h"

namespace gpuq {
namespace {

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Upload {
  std::string data;
  size_t offset = 0;
};

size_t ReadUpload(char* buffer, size_t size, size_t nitems, void* userdata) {
  auto* up = static_cast<Upload*>(userdata);
  size_t n = std::min(size * nitems, up->data.size() - up->offset);
  std::memcpy(buffer, up->data.data() + up->offset, n);
  up->offset += n;
  return n;
}

size_t WriteBody(char* ptr, size_t size, size_t nmemb, void* userdata) {
  auto* out = static_cast<std::string*>(userdata);
  if (out->size() < 4096) out->append(ptr, std::min(size * nmemb, 4096 - out->size()));
  return size * nmemb;
}

bool IsAscii(std::string_view s) {
  for (unsigned char c : s) {
    if (c >= 0x80 || c < 0x20) return false;
  }
  return true;
}

// RFC 2047 encoded-word for a header value that is not plain ASCII.
std::string HeaderValue(const std::string& value) {
  if (IsAscii(value)) return value;
  std::string clean;
  for (char c : value) clean += (c == '\r' || c == '\n') ? ' ' : c;
  return "=?UTF-8?B?" + Base64Encode(clean) + "?=";
}

// libcurl's progress callback: a non-zero return aborts the transfer.
int AbortIfCancelled(void* clientp, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return static_cast<std::atomic<bool>*>(clientp)->load() ? 1 : 0;
}

Status CurlError(CURLcode code, const char* errbuf, const std::string& what) {
  std::string detail = errbuf[0] ? errbuf : curl_easy_strerror(code);
  std::string message = what + ": " + detail;
  if (code == CURLE_OPERATION_TIMEDOUT) return Status::Timeout(message);
  return Status::Unavailable(message);
}

struct EasyHandle {
  CURL* curl = curl_easy_init();
  curl_slist* list = nullptr;
  ~EasyHandle() {
    if (list) curl_slist_free_all(list);
    if (curl) curl_easy_cleanup(curl);
  }
};

}  // namespace

std::string FormatMailMessage(const SmtpConfig& smtp, const OutgoingMail& mail, UnixMs now) {
  std::time_t t = static_cast<std::time_t>(now / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char date[64];
  std::strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000", &tm);
  std::string out;
  out += "Date: " + std::string(date) + "\r\n";
  out += "From: " + smtp.from + "\r\n";
  out += "To: " + mail.to + "\r\n";
  out += "Subject: " + HeaderValue(mail.subject) + "\r\n";
  if (!mail.message_id.empty()) out += "Message-ID: " + mail.message_id + "\r\n";
  out += "MIME-Version: 1.0\r\n";
  out += "Content-Type: text/plain; charset=UTF-8\r\n";
  out += "Content-Transfer-Encoding: 8bit\r\n";
  out += "\r\n";
  for (char c : mail.body) {
    if (c == '\n') {
      out += "\r\n";
    } else if (c != '\r') {
      out += c;
    }
  }
  if (!mail.body.empty() && mail.body.back() != '\n') out += "\r\n";
  return out;
}

CurlSender::CurlSender(std::chrono::milliseconds timeout) : timeout_(timeout) { GlobalInit(); }

void CurlSender::CommonOptions(void* handle, char* errbuf) {
  CURL* curl = static_cast<CURL*>(handle);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(timeout_.count()));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(timeout_.count()));
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, AbortIfCancelled);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &cancelled_);
}

Status CurlSender::SendMail(const SmtpConfig& smtp, const OutgoingMail& mail) {
  if (cancelled_) return Status::Unavailable("the master is stopping");
  if (!smtp.enabled()) return Status::FailedPrecondition("SMTP is not configured (no host)");
  if (smtp.from.empty()) return Status::FailedPrecondition("SMTP has no from address");
  EasyHandle h;
  if (!h.curl) return Status::Internal("curl_easy_init failed");
  char errbuf[CURL_ERROR_SIZE] = {0};
  std::string scheme = smtp.security == "tls" ? "smtps://" : "smtp://";
  std::string url = scheme + smtp.host + ":" + std::to_string(smtp.EffectivePort());
  Upload upload{FormatMailMessage(smtp, mail, RealClock::Get()->NowUnixMs()), 0};
  h.list = curl_slist_append(nullptr, ("<" + mail.to + ">").c_str());
  std::string from = "<" + smtp.from + ">";
  curl_easy_setopt(h.curl, CURLOPT_URL, url.c_str());
  CommonOptions(h.curl, errbuf);
  if (smtp.security == "starttls") curl_easy_setopt(h.curl, CURLOPT_USE_SSL, CURLUSESSL_ALL);
  if (!smtp.user.empty()) {
    curl_easy_setopt(h.curl, CURLOPT_USERNAME, smtp.user.c_str());
    curl_easy_setopt(h.curl, CURLOPT_PASSWORD, smtp.password.c_str());
  }
  curl_easy_setopt(h.curl, CURLOPT_MAIL_FROM, from.c_str());
  curl_easy_setopt(h.curl, CURLOPT_MAIL_RCPT, h.list);
  curl_easy_setopt(h.curl, CURLOPT_READFUNCTION, ReadUpload);
  curl_easy_setopt(h.curl, CURLOPT_READDATA, &upload);
  curl_easy_setopt(h.curl, CURLOPT_UPLOAD, 1L);
  CURLcode rc = curl_easy_perform(h.curl);
  if (rc != CURLE_OK) return CurlError(rc, errbuf, "SMTP " + url);
  return Status::Ok();
}

Status CurlSender::PostJson(const std::string& url, const std::string& format,
                            const std::string& json_body) {
  if (cancelled_) return Status::Unavailable("the master is stopping");
  EasyHandle h;
  if (!h.curl) return Status::Internal("curl_easy_init failed");
  char errbuf[CURL_ERROR_SIZE] = {0};
  std::string response;
  h.list = curl_slist_append(nullptr, "Content-Type: application/json; charset=utf-8");
  h.list = curl_slist_append(h.list, "User-Agent: gpuq");
  curl_easy_setopt(h.curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h.curl, CURLOPT_PROTOCOLS_STR, "http,https");
  CommonOptions(h.curl, errbuf);
  curl_easy_setopt(h.curl, CURLOPT_HTTPHEADER, h.list);
  curl_easy_setopt(h.curl, CURLOPT_POSTFIELDS, json_body.c_str());
  curl_easy_setopt(h.curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(json_body.size()));
  curl_easy_setopt(h.curl, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(h.curl, CURLOPT_WRITEDATA, &response);
  CURLcode rc = curl_easy_perform(h.curl);
  if (rc != CURLE_OK) return CurlError(rc, errbuf, "POST");
  long code = 0;
  curl_easy_getinfo(h.curl, CURLINFO_RESPONSE_CODE, &code);
  if (code < 200 || code >= 300) {
    return Status::Unavailable("HTTP " + std::to_string(code) + ": " + response.substr(0, 300));
  }
  // DingTalk and Feishu answer 200 with an error code in the body.
  if (format == "dingtalk" || format == "feishu") {
    nlohmann::json body = nlohmann::json::parse(response, nullptr, false);
    const char* key = format == "dingtalk" ? "errcode" : "code";
    if (body.is_object() && body.contains(key) && body[key].is_number_integer() &&
        body[key].get<int64_t>() != 0) {
      return Status::Unavailable(format + " refused the message: " + response.substr(0, 300));
    }
  }
  return Status::Ok();
}

}  // namespace gpuq
