#ifndef GPUQ_WEB_NOTIFY_ACTIONS_H_
#define GPUQ_WEB_NOTIFY_ACTIONS_H_

// The notification changes that both the JSON API (web/api_notify.cc) and the panel
// (web/panel_notify.cc) make, written once so the two cannot drift apart. Each takes its
// input in the API's JSON shape, checks all of it first (InvalidArgument naming the field as
// the API names it: "smtp.port", "address", "events"), and writes the change together with its
// audit entry in one transaction, so an error leaves nothing half-written.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "common/ids.h"
#include "common/status.h"
#include "master/store/notify_store.h"
#include "master/store/user_store.h"
#include "web/web_context.h"

namespace gpuq {

// PUT /api/v1/settings/notifications. The audit entry shows a new password only as
// "(changed)". REQUIRES: ctx->notifier (for its startup values).
Status SaveNotifySettings(WebContext* ctx, UserId by, const nlohmann::json& body);

// Applies the fields of `body` (name, kind, address, format, events, enabled) over `t` and
// checks the whole target. An e-mail target's format is always "generic".
Status ReadNotifyTarget(const nlohmann::json& body, NotifyTargetRow* t);
// POST /api/v1/notify/targets: a new target (kind "webhook" unless `body` says otherwise).
Result<NotifyTargetRow> CreateNotifyTarget(WebContext* ctx, UserId by, const nlohmann::json& body);
// PATCH /api/v1/notify/targets/{id}: kNotFound when there is no such target.
Result<NotifyTargetRow> UpdateNotifyTarget(WebContext* ctx, UserId by, int64_t id,
                                           const nlohmann::json& body);
// DELETE /api/v1/notify/targets/{id}: its pending messages become failed.
Status DeleteNotifyTarget(WebContext* ctx, UserId by, int64_t id);

// "Send test" to a target, or a test e-mail to `to` (checked as field "to"): sent now, on the
// caller's thread; OK when the server accepted it, else its own words prefixed "test not
// delivered". REQUIRES: ctx->notifier.
Status SendNotifyTargetTest(WebContext* ctx, int64_t target_id);
Status SendTestMailTo(WebContext* ctx, const std::string& to);

// POST /api/v1/notifications/{id}/retry: a failed message is due again now and the notifier is
// woken; audited. kNotFound / kFailedPrecondition (not failed) as NotifyOutbox::Retry.
Result<NotificationRow> RetryNotification(WebContext* ctx, UserId by, int64_t id);

// PUT /api/v1/me/notifications {"email"?, "notify_default"?}: the user's own e-mail address
// ("" removes it) and default for new tasks (end, failure, off). Returns the user as updated.
Result<UserRow> SaveMyNotifications(WebContext* ctx, const UserRow& user,
                                    const nlohmann::json& body);

}  // namespace gpuq

#endif  // GPUQ_WEB_NOTIFY_ACTIONS_H_
