#ifndef GPUQ_WEB_API_ROUTES_H_
#define GPUQ_WEB_API_ROUTES_H_

#include <httplib.h>

#include "web/web_context.h"

namespace gpuq {

// Each registers one group of /api/v1 routes; ApiServer calls them all.
void RegisterAccountRoutes(httplib::Server& server, WebContext* ctx);  // tokens, me, users
void RegisterNodeRoutes(httplib::Server& server, WebContext* ctx);     // nodes, gpus
void RegisterTaskRoutes(httplib::Server& server, WebContext* ctx);     // tasks, runs, logs
void RegisterMetricsRoutes(httplib::Server& server, WebContext* ctx);  // /metrics
// settings/notifications, notify/targets, notifications, me/notifications
void RegisterNotifyRoutes(httplib::Server& server, WebContext* ctx);

}  // namespace gpuq

#endif  // GPUQ_WEB_API_ROUTES_H_
