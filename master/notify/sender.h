#ifndef GPUQ_MASTER_NOTIFY_SENDER_H_
#define GPUQ_MASTER_NOTIFY_SENDER_H_

#include <string>

#include "common/status.h"
#include "master/notify/notify_settings.h"

namespace gpuq {

// One e-mail as it goes out.
struct OutgoingMail {
  std::string to;
  std::string subject;
  std::string body;        // plain text, '\n' line ends
  std::string message_id;  // "<gpuq-12@host>": the same on every attempt of one message
};

// The edge of the world for notifications: SMTP and HTTP. CurlSender is the real one; unit
// tests use a fake that records what it was asked and fails on demand.
// Implementations must be safe to call from several threads at once.
class Sender {
 public:
  virtual ~Sender() = default;
  // OK only once the SMTP server accepted the message (250 after DATA). An error says what
  // failed: kUnavailable (connect, TLS, the server refused) or kTimeout.
  virtual Status SendMail(const SmtpConfig& smtp, const OutgoingMail& mail) = 0;
  // POSTs `json_body` as application/json. OK only for a 2xx answer whose body does not
  // report an error in the format's own way (DingTalk "errcode", Feishu "code" not 0).
  virtual Status PostJson(const std::string& url, const std::string& format,
                          const std::string& json_body) = 0;
  // Makes calls in flight (and later ones) give up at once with kUnavailable, so a master
  // that stops does not wait for an SMTP server that does not answer.
  virtual void CancelAll() {}
};

}  // namespace gpuq

#endif  // GPUQ_MASTER_NOTIFY_SENDER_H_
