#include "dashboard/serve_proxy.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <regex>

#include "dashboard/model_panel.h"
#include "shared/printable.h"
#include "shared/tunables.h"

namespace cloudbook {
namespace {

constexpr size_t kTopClasses = 5;

// http://<host>:<port> with nothing after: what the proxy may call.
bool PlainHttpOrigin(const std::string& url) {
  static const std::regex origin(R"(http://(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):[0-9]{1,5})");
  return std::regex_match(url, origin);
}

ServeAnswer Error(int status, const std::string& message) { return {status, {{"error", message}}}; }

// The probabilities of the one instance sent: predictions[0], a list of numbers (or an object
// holding "probabilities"/"outputs", as some servers answer).
Result<std::vector<double>> FirstPrediction(const Json& answer) {
  if (!answer.is_object() || !answer.contains("predictions") || !answer["predictions"].is_array() ||
      answer["predictions"].empty()) {
    return Status::Corruption("its answer has no \"predictions\" list");
  }
  Json first = answer["predictions"][0];
  if (first.is_object()) {
    first =
        first.contains("probabilities") ? first["probabilities"] : first.value("outputs", Json());
  }
  if (first.is_number()) first = Json::array({first});
  if (!first.is_array() || first.empty()) {
    return Status::Corruption("its first prediction is not a list of numbers");
  }
  std::vector<double> values;
  for (const Json& value : first) {
    if (!value.is_number()) return Status::Corruption("its first prediction holds a non-number");
    values.push_back(value.get<double>());
  }
  return values;
}

ServeAnswer Answer(const ServeEndpoint& endpoint, const RunModel& model,
                   const std::vector<double>& outputs) {
  ServeAnswer answer;
  answer.body = {{"server", endpoint.url}, {"mode", endpoint.mode}};
  if (model.problem == ProblemType::kRegression) {
    answer.body["values"] = outputs;
    return answer;
  }
  std::vector<size_t> order(outputs.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return outputs[a] > outputs[b]; });
  Json top = Json::array();
  for (size_t rank = 0; rank < order.size() && rank < kTopClasses; ++rank) {
    const auto id = static_cast<int64_t>(order[rank]);
    top.push_back(
        {{"class", id}, {"name", ClassNameOf(model, id)}, {"probability", outputs[order[rank]]}});
  }
  const auto predicted = static_cast<int64_t>(order.front());
  answer.body["class"] = predicted;
  answer.body["name"] = ClassNameOf(model, predicted);
  answer.body["probabilities"] = outputs;
  answer.body["top"] = top;
  return answer;
}

// One server: the answer, or an error (status 0: try the next server).
ServeAnswer Ask(const ServeEndpoint& endpoint, const RunModel& model, const std::string& body) {
  httplib::Client client(endpoint.url);
  const int64_t timeout_ms = GetTunables().try_serve_timeout_ms.count();
  client.set_connection_timeout(2, 0);
  client.set_read_timeout(timeout_ms / 1000, (timeout_ms % 1000) * 1000);
  client.set_write_timeout(timeout_ms / 1000, (timeout_ms % 1000) * 1000);
  httplib::Request request;
  request.method = "POST";
  request.path = "/v1/models/" + endpoint.model_name + ":predict";
  request.set_header("Content-Type", "application/json");
  request.set_header("Accept", "application/json");
  request.body = body;
  std::string received;
  bool too_large = false;
  request.content_receiver = [&](const char* data, size_t length, uint64_t, uint64_t) {
    if (received.size() + length > GetTunables().max_response_bytes) {
      too_large = true;
      return false;
    }
    received.append(data, length);
    return true;
  };
  httplib::Response response;
  httplib::Error error = httplib::Error::Success;
  const std::string where = "the model server at " + endpoint.url;
  if (!client.send(request, response, error) && !too_large) {
    return Error(0, where + " did not answer (" + httplib::to_string(error) + ")");
  }
  if (too_large) {
    return Error(502, where + " answered more than " +
                          std::to_string(GetTunables().max_response_bytes) + " bytes");
  }
  Result<Json> parsed = ParseJsonText(received, where + "'s answer");
  if (response.status >= 400) {
    const std::string message = parsed.ok() && parsed->is_object() && parsed->contains("error")
                                    ? parsed->value("error", Json()).dump()
                                    : "HTTP " + std::to_string(response.status);
    return Error(response.status < 500 ? response.status : 502,
                 where + " refused the sample: " + Printable(message));
  }
  if (!parsed.ok()) return Error(502, parsed.status().message());
  Result<std::vector<double>> outputs = FirstPrediction(*parsed);
  if (!outputs.ok()) return Error(502, where + ": " + outputs.status().message());
  return Answer(endpoint, model, *outputs);
}

}  // namespace

ServeAnswer AskModelServer(const std::vector<ServeEndpoint>& endpoints, const RunModel& model,
                           const Json& instance, const std::string& start) {
  const std::string body = Json({{"instances", Json::array({instance})}}).dump();
  std::vector<std::string> skipped;
  std::string last_failure;
  for (const ServeEndpoint& endpoint : endpoints) {
    if (endpoint.run != model.run) continue;
    if (endpoint.token_required) {
      skipped.push_back(endpoint.url +
                        " requires a token, which the dashboard does not send to "
                        "announced servers");
      continue;
    }
    if (!PlainHttpOrigin(endpoint.url)) {
      skipped.push_back(endpoint.url + " is not a plain http://host:port address");
      continue;
    }
    ServeAnswer answer = Ask(endpoint, model, body);
    if (answer.http_status != 0) return answer;
    last_failure = answer.body["error"].get<std::string>();
    spdlog::info("try it: {}", Printable(last_failure));
  }
  std::string message = "no model server is up for run " + model.run;
  if (!last_failure.empty()) message += ": " + last_failure;
  for (const std::string& reason : skipped) message += "; " + reason;
  ServeAnswer answer = Error(503, message);
  answer.body["start"] = start;
  return answer;
}

}  // namespace cloudbook
