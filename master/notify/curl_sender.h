#ifndef GPUQ_MASTER_NOTIFY_CURL_SENDER_H_
#define GPUQ_MASTER_NOTIFY_CURL_SENDER_H_

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

 private:
  std::chrono::milliseconds timeout_;
};

// The message as it goes over SMTP: headers (Subject RFC 2047-encoded when not ASCII), a
// blank line, the body with CRLF line ends. Pure; exposed for tests.
std::string FormatMailMessage(const SmtpConfig& smtp, const OutgoingMail& mail, UnixMs now);

}  // namespace gpuq

#endif  // GPUQ_MASTER_NOTIFY_CURL_SENDER_H_
