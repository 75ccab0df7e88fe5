#include "web/api_server.h"

#include <spdlog/spdlog.h>

#include "web/api_routes.h"
#include "web/http_util.h"
#include "web/panel.h"

namespace gpuq {

namespace {

std::unique_ptr<httplib::Server> MakeServer(const TlsFiles& tls) {
  if (tls.cert_path.empty()) return std::make_unique<httplib::Server>();
  // The Debian build of cpp-httplib carries OpenSSL support (CPPHTTPLIB_OPENSSL_SUPPORT from
  // its pkg-config flags).
  return std::make_unique<httplib::SSLServer>(tls.cert_path.c_str(), tls.key_path.c_str());
}

}  // namespace

ApiServer::ApiServer(WebContext ctx, const TlsFiles& tls)
    : ctx_(ctx), server_(MakeServer(tls)), tls_(!tls.cert_path.empty()) {
  httplib::Server& s = *server_;
  // httplib's default also sets SO_REUSEPORT, which lets a second master bind the same port
  // and silently share its requests. SO_REUSEADDR alone allows a quick restart.
  s.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  s.set_keep_alive_max_count(1000);
  // A reply goes out in two writes (headers, body): with Nagle's algorithm the second waits
  // for the client's delayed ACK, 40 ms per request on a kept-alive connection.
  s.set_tcp_nodelay(true);
  s.set_read_timeout(30, 0);
  s.set_payload_max_length(16 << 20);
  s.set_default_headers({{"X-Content-Type-Options", "nosniff"},
                         {"X-Frame-Options", "DENY"},
                         {"Referrer-Policy", "no-referrer"},
                         {"Cache-Control", "no-store"},
                         // The panel's pages load only their own CSS and JS; no inline script.
                         {"Content-Security-Policy",
                          "default-src 'self'; script-src 'self'; style-src 'self'; "
                          "img-src 'self' data:; object-src 'none'; base-uri 'none'; "
                          "form-action 'self'; frame-ancestors 'none'"}});

  s.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    ReplyJson(res, 200, {{"status", "ok"}});
  });
  RegisterAccountRoutes(s, &ctx_);
  RegisterNodeRoutes(s, &ctx_);
  RegisterTaskRoutes(s, &ctx_);
  RegisterMetricsRoutes(s, &ctx_);
  RegisterPanelRoutes(s, &ctx_);
  RegisterNotifyRoutes(s, &ctx_);

  // Unknown routes under /api answer in the API's error shape.
  s.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (res.status == 404 && req.path.rfind("/api/", 0) == 0 && res.body.empty()) {
      ReplyError(res, Status::NotFound("no route " + req.method + " " + req.path));
    } else if (res.status == 404 && req.path.rfind("/admin", 0) == 0 && res.body.empty()) {
      ReplyPanelError(res, 404, "No such page.");
    }
  });
  s.set_exception_handler(
      [](const httplib::Request& req, httplib::Response& res, std::exception_ptr) {
        spdlog::error("{} {}: unhandled exception", req.method, req.path);
        ReplyError(res, Status::Internal("internal error"));
      });
}

ApiServer::~ApiServer() { Stop(); }

Status ApiServer::Bind(const std::string& host, int port) {
  if (tls_ && !server_->is_valid()) {
    return Status::InvalidArgument(
        "cannot load the TLS certificate and key (PEM files; the key must match the "
        "certificate and have no passphrase)",
        "tls_cert");
  }
  if (!server_->bind_to_port(host.c_str(), port)) {
    return Status::Unavailable("cannot listen on " + host + ":" + std::to_string(port) +
                               " (in use, or not an address of this machine)");
  }
  return Status::Ok();
}

void ApiServer::Run() { server_->listen_after_bind(); }

void ApiServer::Stop() { server_->stop(); }

}  // namespace gpuq
