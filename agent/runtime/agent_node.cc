#include "agent/runtime/agent_node.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/filesystem.hpp>

#include <condition_variable>
#include <thread>

#include "agent/core/control_channel.h"
#include "agent/core/run_progress_recorder.h"
#include "agent/runtime/project_heartbeat.h"
#include "agent/transport/invoke_context.h"
#include "shared/formats/agent_id.h"
#include "shared/formats/announcement.h"
#include "shared/formats/assignment.h"
#include "shared/formats/du_files.h"
#include "shared/project_layout.h"
#include "shared/tunables.h"
#include "shared/wire/wire_arrays.h"

namespace cloudbook {

AnnouncedKeyCache::KeyMap KeysOf(const AnnouncementScan& scan) {
  AnnouncedKeyCache::KeyMap keys;
  for (const Announcement& peer : scan.valid) {
    if (!peer.curve_public_key.empty()) keys[peer.curve_public_key] = peer.id;
  }
  return keys;
}

WireMessage ReplyMessage(DuReply reply) {
  WireMessage message;
  message.header.kind = MessageKind::kResult;
  message.header.arguments = std::move(reply.values);
  for (auto& [name, array] : reply.tensors) AddArrayTensor(&message, name, std::move(array));
  return message;
}

AgentNode::~AgentNode() { Stop(); }

Status AgentNode::Start(AgentServicesContext& context) {
  project_folder_ = context.project_folder;
  shared_folder_ = context.config.shared_folder;
  own_id_ = context.config.id;
  announce_interval_s_ = context.project.announce_interval_s;
  pinned_signing_keys_[own_id_] = context.config.signing.public_key;
  runtime_ = std::make_unique<DuRuntime>(
      ProjectLayout(context.project_folder, context.config.shared_folder), context.limits.cores);

  // The ZAP handler's keys: scanned once now, then by RefreshPeers and on unknown keys.
  auto scan_keys = [this] {
    return KeysOf(ReadAnnouncements(shared_folder_, pinned_signing_keys_));
  };
  keys_ = std::make_unique<AnnouncedKeyCache>(scan_keys, GetTunables().key_rescan_min_interval_ms);
  keys_->Replace(scan_keys());

  PeerTransportOptions options;
  options.agent_id = own_id_;
  options.plaintext = context.config.plaintext;
  options.keys = context.config.curve;
  options.authorizer = [this](const std::string& key, std::string* id) {
    // Never a folder scan on this (the transport) thread: an unknown key waits, within a
    // budget, for the cache thread's (announced_keys.h).
    return keys_->Find(key, id);
  };
  ApplyProjectHeartbeat(context.project, &options);
  // The launch loop holds the port until now and the transport adopts its socket, so no
  // other agent can take the port in between.
  const int port = context.port->port();
  options.listen_fd = context.port->Take();
  options.bind_endpoint = "tcp://" + context.bind_ip + ":" + std::to_string(port);
  auto transport = PeerTransport::Start(std::move(options),
                                        [this](InvokeContext& call) { return Handle(call); });
  if (!transport.ok()) return transport.status().WithContext("starting the transport");
  transport_ = std::move(transport).value();
  spdlog::info("serving DU functions on {} (published as {})", transport_->endpoint(),
               context.published_endpoint);
  RefreshPeers();
  // An agent lent to a project will train it: decode the data while waiting for work, so a
  // run's first step does not wait for decompression (later DU generations reload lazily).
  // It announces "running" once ready (bounded: a huge data set must not hide the agent).
  if (auto dus = ReadDuSpecs(ProjectLayout(project_folder_, shared_folder_));
      dus.ok() && !dus->empty()) {
    runtime_->Prefetch(dus->front().index);
    const double warmup_s = GetTunables().data_warmup_s;
    if (!runtime_->WaitForPrefetch(warmup_s)) {
      spdlog::info("still decoding the data after {} s; announcing anyway", warmup_s);
    }
  }
  if (context.config.agent_0) {
    // Runs this agent 0 left "running" when it died have no writer left: say so in their files.
    MarkAbandonedRuns(ProjectLayout(project_folder_, shared_folder_).runs());
    CB_RETURN_IF_ERROR(StartControl(context));
  }
  return Status::Ok();
}

Status AgentNode::StartControl(const AgentServicesContext& context) {
  serve_ = std::make_unique<ServeFanOut>(shared_folder_, own_id_, this);
  auto control = StartControlServer(context.config,
                                    [this](InvokeContext& call) { return HandleControl(call); });
  if (!control.ok()) return control.status().WithContext("starting the control channel");
  control_ = std::move(control).value();
  ControlEndpoint endpoint;
  endpoint.endpoint = control_->endpoint();
  endpoint.pid = ::getpid();
  endpoint.plaintext = context.config.plaintext;
  CB_RETURN_IF_ERROR(WriteControlFile(context.project_folder, own_id_, endpoint));
  spdlog::info("agent 0: cloudbook-run reaches this agent on {} (local only)", endpoint.endpoint);
  return Status::Ok();
}

Result<WireMessage> AgentNode::HandleServePredict(InvokeContext& context) {
  const WireMessage& request = context.request();
  const int x = FindTensor(request, "x");
  if (x < 0) return Status::InvalidArgument("serve_predict needs the input tensor 'x'");
  CB_ASSIGN_OR_RETURN(Array input, ArrayFromTensor(request, static_cast<size_t>(x)));
  const std::string run = StringArgument(request.header.arguments, "run");
  CB_ASSIGN_OR_RETURN(ServedBatch batch, serve_->Predict(run, input));
  WireMessage reply;
  reply.header.kind = MessageKind::kResult;
  std::string served_by;
  for (const auto& [du, agent] : batch.served_by) {
    served_by += (served_by.empty() ? "" : " ") + std::to_string(du) + ":" + agent;
  }
  // Within the wire's string limit however many DUs there are.
  if (served_by.size() > 2000) served_by = served_by.substr(0, 1996) + " ...";
  reply.header.arguments = {
      {"run", run}, {"served_by", served_by}, {"failovers", int64_t{batch.failovers}}};
  AddArrayTensor(&reply, "outputs",
                 std::make_shared<const Array>(std::move(batch.composed.outputs)));
  AddInt64Tensor(&reply, "predictions", batch.composed.predictions);
  return reply;
}

Result<WireMessage> AgentNode::HandleControl(InvokeContext& context) {
  if (context.function() == "serve_predict") return HandleServePredict(context);
  if (context.function() != "run") {
    return Status::InvalidArgument("the control channel serves 'run' and 'serve_predict', not '" +
                                   context.function() + "'");
  }
  bool expected = false;
  if (!run_in_progress_.compare_exchange_strong(expected, true)) {
    return Status::InvalidArgument("a run is already in progress on " + own_id_ +
                                   ": wait for it, or cancel it (Ctrl-C in its cloudbook-run)");
  }
  struct Release {
    std::atomic<bool>& flag;
    ~Release() { flag = false; }
  } release{run_in_progress_};
  const WireArguments& arguments = context.request().header.arguments;
  RunRequest request;
  request.run_name = StringArgument(arguments, "run_name");
  if (!request.run_name.empty() && !ValidateAgentId(request.run_name).ok()) {
    return Status::InvalidArgument("run name '" + request.run_name +
                                   "': use letters, digits, '.', '_' and '-' only");
  }
  const double until_deadline =
      std::chrono::duration<double>(context.deadline() - std::chrono::steady_clock::now()).count();
  request.timeout_s = std::max(1.0, NumberArgument(arguments, "timeout_s", until_deadline));
  request.assignment_wait_s =
      NumberArgument(arguments, "assignment_wait_s", request.assignment_wait_s);
  request.baseline = BoolArgument(arguments, "baseline", false);
  RunEnvironment environment;
  environment.project_folder = project_folder_;
  environment.shared_folder = shared_folder_;
  environment.own_id = own_id_;
  environment.caller = this;
  environment.load_data = [this] { return runtime_->Data(0); };
  environment.cancel = context.cancel_flag();
  // The dashboard follows the run through distributed/runs/<run>.json.
  RunProgressRecorder recorder(ProjectLayout(project_folder_, shared_folder_).shared());
  environment.on_event = [&context, &recorder](const WireArguments& event) {
    recorder.OnEvent(event);
    context.SendProgress(event);
  };
  spdlog::info("{} asks for a run", context.caller_id());
  Result<RunReport> outcome = CoordinateRun(environment, request);
  if (!outcome.ok()) {
    recorder.Finish("failed", outcome.status().message(), nullptr, nullptr);
    return outcome.status();
  }
  RunReport& report = *outcome;
  const Json& baseline = report.results["baseline"];
  recorder.Finish("done", "", report.results["composed"]["metrics"],
                  baseline.is_object() ? baseline.value("metrics", Json()) : Json());
  WireMessage reply;
  reply.header.kind = MessageKind::kResult;
  reply.header.arguments = {{"results_path", report.results_path},
                            {"run", report.results.value("run", std::string())}};
  for (const auto& [name, value] : report.results["composed"]["metrics"].items()) {
    if (value.is_number()) reply.header.arguments["composed_" + name] = value.get<double>();
  }
  return reply;
}

DuCallOutcome AgentNode::CallDu(const DuCallRequest& request) {
  DuCallOutcome outcome;
  if (request.agent == own_id_) {
    outcome.remote = true;
    DuInvocation call;
    call.function = request.function;
    call.du = request.du;
    call.arguments = request.arguments;
    call.tensors = request.tensors;
    call.progress = request.on_progress;
    call.cancel = request.cancel;
    Status owned = request.function == "train" ? CheckOwnership(request.du) : Status::Ok();
    if (!owned.ok()) {
      outcome.status = owned;
      return outcome;
    }
    auto reply = runtime_->Invoke(call);
    if (!reply.ok()) {
      outcome.status = reply.status();
      return outcome;
    }
    outcome.reply = ReplyMessage(std::move(reply).value());
    return outcome;
  }
  if (!transport_) {
    outcome.status = Status::Internal("the agent is stopping");
    return outcome;
  }
  WireMessage invoke;
  invoke.header.kind = MessageKind::kInvoke;
  invoke.header.function = request.function;
  invoke.header.du = request.du;
  invoke.header.arguments = request.arguments;
  for (const auto& [name, array] : request.tensors) AddArrayTensor(&invoke, name, array);
  const uint64_t request_id = transport_->NewRequestId();
  invoke.header.request_id = request_id;
  // Call blocks this thread; a small watcher turns the caller's flag into a transport Cancel.
  std::mutex mutex;
  std::condition_variable done_signal;
  bool done = false;
  std::thread watcher;
  if (request.cancel != nullptr) {
    watcher = std::thread([&] {
      std::unique_lock<std::mutex> lock(mutex);
      while (!done) {
        if (request.cancel->load()) {
          (void)transport_->Cancel(request.agent, request_id);
          return;
        }
        done_signal.wait_for(lock, GetTunables().cancel_poll_ms);
      }
    });
  }
  auto reply = transport_->Call(request.agent, std::move(invoke), request.timeout,
                                [&](const WireMessage& progress) {
                                  if (request.on_progress)
                                    request.on_progress(progress.header.arguments);
                                });
  {
    std::lock_guard<std::mutex> lock(mutex);
    done = true;
  }
  done_signal.notify_all();
  if (watcher.joinable()) watcher.join();
  if (reply.ok()) {
    outcome.reply = std::move(reply).value();
    return outcome;
  }
  outcome.status = reply.status();
  // The transport prefixes an error the handler returned with "<peer> (<function>): ".
  outcome.remote =
      outcome.status.message().rfind(request.agent + " (" + request.function + "): ", 0) == 0;
  return outcome;
}

bool AgentNode::WaitReachable(const std::string& agent, std::chrono::milliseconds timeout) {
  if (agent == own_id_) return true;
  if (!transport_) return false;
  bool known = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    known = peers_.count(agent) > 0;
  }
  if (!known) RefreshPeers();  // it may have announced itself since the last stats tick
  return transport_->WaitForPeer(agent, timeout);
}

Status AgentNode::CheckOwnership(int du) const {
  auto assignment = ReadAssignment(shared_folder_);
  if (!assignment.ok()) return Status::Ok();  // no deployer in this project: direct calls
  const DuAssignment* entry = assignment->Find(du);
  if (entry == nullptr || entry->agent == own_id_) return Status::Ok();
  return Status::InvalidArgument("DU " + std::to_string(du) + " is not assigned to " + own_id_ +
                                 " (assignment version " + std::to_string(assignment->version) +
                                 " gives it to " + entry->agent + ")");
}

void AgentNode::EnforceAssignment() {
  if (!runtime_) return;
  auto assignment = ReadAssignment(shared_folder_);
  if (!assignment.ok()) {
    // Garbage, a link or a folder put there by another writer: keep the DUs in hand, say why.
    const std::string problem = assignment.status().message();
    if (assignment.status().code() != Status::Code::kNotFound && problem != assignment_problem_) {
      spdlog::warn("ignoring the assignment: {}", problem);
    }
    assignment_problem_ = problem;
    return;
  }
  assignment_problem_.clear();
  // Work is coming: decode the data now rather than when the first `train` arrives.
  const std::vector<int> mine = assignment->DusOf(own_id_);
  if (!mine.empty()) runtime_->Prefetch(mine.front());
  for (const DuState& state : runtime_->States()) {
    if (state.state != "training") continue;
    const DuAssignment* entry = assignment->Find(state.du);
    if (entry == nullptr || entry->agent == own_id_) continue;
    spdlog::warn("DU {} now belongs to {} (assignment version {}): cancelling its training here",
                 state.du, entry->agent, assignment->version);
    DuInvocation cancel;
    cancel.function = "cancel";
    cancel.du = state.du;
    (void)runtime_->Invoke(cancel);
  }
}

PeerLivenessView AgentNode::PeerLiveness() {
  PeerLivenessView view;
  if (!transport_) return view;
  std::set<std::string> peers;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    peers = peers_;
  }
  for (const std::string& peer : peers) view[peer] = transport_->IsPeerAlive(peer);
  return view;
}

void AgentNode::ApplyLimits(const GrantLimits& limits) {
  if (runtime_) runtime_->SetThreads(limits.cores);
}

std::vector<int> AgentNode::Dus() {
  std::vector<int> dus;
  if (!runtime_) return dus;
  for (const DuState& state : runtime_->States()) dus.push_back(state.du);
  return dus;
}

std::vector<DuProgress> AgentNode::Progress() {
  RefreshPeers();  // on the stats tick: new agents become reachable within one interval
  EnforceAssignment();
  std::vector<DuProgress> progress;
  if (!runtime_) return progress;
  for (const DuState& state : runtime_->States()) {
    progress.push_back(
        {state.du, static_cast<int>(state.epoch), state.loss, state.samples_per_second});
  }
  return progress;
}

void AgentNode::Stop() {
  // Clean shutdown: let running trainings finish their epoch (its checkpoint is written),
  // bounded by epoch_finish_s, below `cloudbook-agent stop`'s default agent_stop_timeout_s;
  // then stopping the transport cancels what is left within one batch, keeping the last
  // finished epoch's checkpoint.
  const double finish_s = GetTunables().epoch_finish_s;
  if (runtime_ && !runtime_->StopAfterCurrentEpochs(finish_s)) {
    spdlog::warn(
        "an epoch did not finish within {} s: cancelling it (the previous epoch's "
        "checkpoint stays)",
        finish_s);
  }
  if (control_) {
    control_->Stop();
    control_.reset();
    serve_.reset();
    boost::system::error_code ignored;
    boost::filesystem::remove(ControlFilePath(project_folder_, own_id_), ignored);
  }
  if (transport_) transport_->Stop();
  transport_.reset();
  runtime_.reset();
  keys_.reset();
}

void AgentNode::RefreshPeers() {
  if (!transport_) return;
  const AnnouncementScan scan = ReadAnnouncements(shared_folder_, pinned_signing_keys_);
  // Fresh means "its sequence changed recently on this machine's steady clock", never a
  // comparison of the peer's wall clock with ours. First sight counts: a dead peer's file
  // only costs a connection that its missing heartbeats mark dead.
  std::set<std::string> stale;
  {
    std::lock_guard<std::mutex> lock(watch_mutex_);
    const int64_t steady_ms = SteadyNowMs();
    watch_.Observe(scan.valid, steady_ms, UnixTimeMs());
    for (const Announcement& peer : scan.valid) {
      if (watch_.Judge(peer.id, steady_ms) == AnnouncementWatch::Freshness::kStale) {
        stale.insert(peer.id);
      }
    }
  }
  for (const Announcement& peer : scan.valid) {
    if (peer.id == own_id_ || stale.count(peer.id) || peer.status == AgentRunState::kStopping) {
      continue;
    }
    const Status added = transport_->AddPeer(peer.id, peer.endpoint, peer.curve_public_key);
    if (!added.ok()) {
      spdlog::warn("peer {}: {}", peer.id, added.message());
    } else {
      std::lock_guard<std::mutex> lock(mutex_);
      peers_.insert(peer.id);
    }
  }
  keys_->Replace(KeysOf(scan));
}

Result<WireMessage> AgentNode::Handle(InvokeContext& context) {
  DuInvocation call;
  call.function = context.function();
  call.du = context.du();
  call.arguments = context.request().header.arguments;
  call.progress = [&context](const WireArguments& progress) { context.SendProgress(progress); };
  call.cancel = context.cancel_flag();
  for (size_t i = 0; i < context.request().header.tensors.size(); ++i) {
    CB_ASSIGN_OR_RETURN(Array array, ArrayFromTensor(context.request(), i));
    call.tensors.emplace_back(context.request().header.tensors[i].name,
                              std::make_shared<const Array>(std::move(array)));
  }
  // `infer` comes many times a second while a model is served: not one line each.
  spdlog::log(call.function == "infer" ? spdlog::level::debug : spdlog::level::info,
              "{} asks for {} of DU {}", context.caller_id(), call.function, call.du);
  if (call.function == "train") CB_RETURN_IF_ERROR(CheckOwnership(call.du));
  CB_ASSIGN_OR_RETURN(DuReply reply, runtime_->Invoke(call));
  return ReplyMessage(std::move(reply));
}

}  // namespace cloudbook
