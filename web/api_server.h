#ifndef GPUQ_WEB_API_SERVER_H_
#define GPUQ_WEB_API_SERVER_H_

#include <httplib.h>

#include <memory>
#include <string>

#include "common/status.h"
#include "web/web_context.h"

namespace gpuq {

// The master's HTTP server: the JSON API, /healthz and (later) the panel.
// Bind() then Run() on one thread; Stop() from any thread makes Run() return.
// PEM files for HTTPS; both empty serves plain HTTP.
struct TlsFiles {
  std::string cert_path;
  std::string key_path;
};

class ApiServer {
 public:
  explicit ApiServer(WebContext ctx, const TlsFiles& tls = {});
  ~ApiServer();

  // Binds the listening socket: a taken port (or, with TLS, a certificate or key that does not
  // load) fails here, before the master reports ready.
  Status Bind(const std::string& host, int port);
  void Run();  // serves until Stop()
  void Stop();

 private:
  WebContext ctx_;
  std::unique_ptr<httplib::Server> server_;
  bool tls_ = false;
};

}  // namespace gpuq

#endif  // GPUQ_WEB_API_SERVER_H_
