#ifndef GPUQ_MASTER_NOTIFY_CURL_SENDER_H_
#define GPUQ_MASTER_NOTIFY_CURL_SENDER_H_

#include <atomic>
#include <chrono>

#include "master/notify/sender.h"

namespace gpuq {

// SMTP (plain, STARTTLS, TLS; AUTH when a user is set) and HTTPS through libcurl, one easy
// handle per call, certificates verified against the system store. Thread-safe.
class CurlSender final : public Sender {
 public:
  explicit CurlSender(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  Status SendMail(const SmtpConfig& smtp, const OutgoingMail& mail) override;
  Status PostJson(const std::string& url, const std::string& format,
                  const std::string& json_body) override;
  void CancelAll() override { cancelled_ = true; }

 private:
  // Sets the options every call shares: timeouts, no signals, the cancel check.
  void CommonOptions(void* curl, char* errbuf);

  std::chrono::milliseconds timeout_;
  std::atomic<bool> cancelled_{false};
};

// The message as it goes over SMTP: headers (Subject RFC 2047-encoded when not ASCII), a
// blank line, the body with CRLF line ends. Pure; exposed for tests.
std::string FormatMailMessage(const SmtpConfig& smtp, const OutgoingMail& mail, UnixMs now);

}  // namespace gpuq

#endif  // GPUQ_MASTER_NOTIFY_CURL_SENDER_H_
