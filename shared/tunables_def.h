// The table of every timing and limit cloudbook tunes, one entry each (Ray's ray_config_def.h
// is the model). No include guard: shared/tunables.h and shared/tunables.cc include this file
// with their own CLOUDBOOK_TUNABLE to expand it. docs/tunables.md is generated from it (a unit
// test keeps the two equal).
//
// CLOUDBOOK_TUNABLE(type, name, default, override, "one-line meaning")
//   type      Ms (std::chrono::milliseconds), double, int or size_t
//   name      lower_snake_case with its unit: _ms, _s, _bytes; counts and factors have none
//   default   today's value; tunables_default::name is the compile-time constant
//   override  ENV: CLOUDBOOK_<NAME> replaces the default (read once per process; a value that
//             is not a number > 0 stops the program with an error naming the variable);
//             FIXED: no override (all machines must agree, or the value is set elsewhere)
//
// Units in the environment: Ms and int/size_t take whole numbers, double takes a decimal.

// --- Liveness: one multiplier for announcements, peer heartbeats and the deployer lease ---
CLOUDBOOK_TUNABLE(int, liveness_multiplier, 3, FIXED,
                  "A writer silent for this many of its own intervals is stale or lost "
                  "(announcements, peer heartbeats, the deployer lease); machines must agree")
CLOUDBOOK_TUNABLE(Ms, peer_timeout_floor_ms, Ms{3000}, ENV,
                  "A peer is lost after liveness_multiplier heartbeat intervals of silence, "
                  "never sooner than this")
CLOUDBOOK_TUNABLE(double, large_clock_skew_s, 30, ENV,
                  "An agent whose clock differs by more than this is logged as skewed")

// --- distributed/config.json defaults (the file is where a project changes them) ---
CLOUDBOOK_TUNABLE(double, announce_interval_s, 5, FIXED,
                  "Default announce_interval_s: agents rewrite their announcement this often")
CLOUDBOOK_TUNABLE(double, stats_interval_s, 2, FIXED,
                  "Default stats_interval_s: agents rewrite their stats this often")
CLOUDBOOK_TUNABLE(double, heartbeat_interval_s, 1, FIXED,
                  "Default heartbeat_interval_s: ZeroMQ ping period between peers")
CLOUDBOOK_TUNABLE(double, liveness_timeout_s, 15, FIXED,
                  "Default liveness_timeout_s: no announcement and no heartbeat this long: lost")

// --- Agent runtime and run coordination ---
CLOUDBOOK_TUNABLE(Ms, cancel_poll_ms, Ms{100}, ENV,
                  "How often a waiting thread looks at a cancel or stop flag (calls, training "
                  "slots, shutdown, the run, cloudbook-run)")
CLOUDBOOK_TUNABLE(Ms, assignment_poll_ms, Ms{250}, ENV,
                  "How often a run waiting for its DUs' owners reads assignment.json again")
CLOUDBOOK_TUNABLE(Ms, busy_retry_ms, Ms{500}, ENV,
                  "A DU whose owner still winds down an earlier invoke is retried this often")
CLOUDBOOK_TUNABLE(int, busy_retries, 120, ENV,
                  "... at most this many times (then the attempt fails)")
CLOUDBOOK_TUNABLE(Ms, predict_timeout_ms, Ms{30 * 60 * 1000}, ENV,
                  "Longest a DU's predict call may take within a run")
CLOUDBOOK_TUNABLE(Ms, min_call_timeout_ms, Ms{1000}, ENV,
                  "A DU call made near the run's deadline still gets at least this long")
CLOUDBOOK_TUNABLE(double, run_timeout_s, 7 * 24 * 3600.0, ENV,
                  "Default --timeout of cloudbook-run: the whole run may take this long")
CLOUDBOOK_TUNABLE(double, run_assignment_wait_s, 120, ENV,
                  "Default --assignment-wait: how long a run waits for an assignment of its DUs")
CLOUDBOOK_TUNABLE(double, run_reachable_wait_s, 10, ENV,
                  "Per attempt, how long a run waits for a DU's owner to answer")
CLOUDBOOK_TUNABLE(double, connect_timeout_s, 15, ENV,
                  "Default --connect-timeout: how long cloudbook-run and `cloudbook-agent call` "
                  "wait to reach their peer")
CLOUDBOOK_TUNABLE(double, call_timeout_s, 600, ENV,
                  "Default --timeout of `cloudbook-agent call`: the call's deadline")
CLOUDBOOK_TUNABLE(double, agent_stop_timeout_s, 30, ENV,
                  "Default --timeout of `cloudbook-agent stop` (and the dashboard's stop button): "
                  "how long it waits for the agent to exit")
CLOUDBOOK_TUNABLE(double, epoch_finish_s, 20, ENV,
                  "On stop, how long an agent lets running epochs finish before cancelling them")
CLOUDBOOK_TUNABLE(double, data_warmup_s, 30, ENV,
                  "At start, how long an agent waits for its data to decode before announcing")
CLOUDBOOK_TUNABLE(int, image_decode_threads, 4, ENV,
                  "Image-folder data: at most this many threads decode images (never more "
                  "than the machine's cores)")
CLOUDBOOK_TUNABLE(double, image_decode_progress_s, 5, ENV,
                  "Image-folder data: a long decode logs its progress this often")
CLOUDBOOK_TUNABLE(Ms, key_rescan_min_interval_ms, Ms{1000}, ENV,
                  "Folder rescans for unknown CURVE keys at most this often")
CLOUDBOOK_TUNABLE(Ms, unknown_key_wait_ms, Ms{250}, ENV,
                  "How long one connection with an unknown key waits for a rescan")
CLOUDBOOK_TUNABLE(Ms, unknown_key_wait_budget_ms, Ms{250}, ENV,
                  "Waiting for unknown keys in all, per rescan interval (then refused at once)")
CLOUDBOOK_TUNABLE(Ms, urgent_rescan_gap_ms, Ms{20}, ENV,
                  "An urgent rescan for a waiting key starts no sooner than this after the last")
CLOUDBOOK_TUNABLE(Ms, control_peer_timeout_ms, Ms{10000}, ENV,
                  "Silence after which agent 0's control channel drops cloudbook-run")
CLOUDBOOK_TUNABLE(Ms, run_progress_min_interval_ms, Ms{500}, ENV,
                  "The run progress file is rewritten at most this often")
CLOUDBOOK_TUNABLE(Ms, run_progress_heartbeat_ms, Ms{5000}, ENV,
                  "... and at least this often while a run goes on")
CLOUDBOOK_TUNABLE(size_t, max_run_progress_notes, 20, ENV,
                  "Notes kept in the run progress file (the newest)")
CLOUDBOOK_TUNABLE(Ms, pid_lock_retry_ms, Ms{50}, ENV,
                  "Retry period while a stale pid file's lock is being released")
CLOUDBOOK_TUNABLE(Ms, pid_read_budget_ms, Ms{1000}, ENV,
                  "How long a reader waits for a starting agent to write its pid")
CLOUDBOOK_TUNABLE(Ms, pid_read_retry_ms, Ms{20}, ENV, "... looking again this often")

// --- Serving a model across agents (cloudbook-serve's distributed mode, agent 0's fan-out) ---
CLOUDBOOK_TUNABLE(Ms, serve_infer_timeout_ms, Ms{2000}, ENV,
                  "Deadline of one `infer` call agent 0 makes while serving; past it (or when "
                  "the owner is lost or refuses) agent 0 applies that DU itself")
CLOUDBOOK_TUNABLE(Ms, serve_peer_retry_ms, Ms{5000}, ENV,
                  "An agent whose `infer` call failed is skipped this long, then asked again "
                  "once its heartbeats are back")
CLOUDBOOK_TUNABLE(Ms, serve_model_recheck_ms, Ms{5000}, ENV,
                  "A loaded model's model.json is read again at most this often (a run made "
                  "again under the same name replaces its weights)")
CLOUDBOOK_TUNABLE(size_t, serve_model_cache, 16, ENV,
                  "(run, DU) predictors an agent keeps loaded for `infer` (least recently used "
                  "go first)")
CLOUDBOOK_TUNABLE(Ms, serve_call_timeout_ms, Ms{30000}, ENV,
                  "Deadline of one `serve_predict` call of cloudbook-serve to agent 0")

// --- Peer transport (PeerTransportOptions defaults; tests still set their own) ---
CLOUDBOOK_TUNABLE(Ms, transport_command_timeout_ms, Ms{5000}, ENV,
                  "How long AddPeer/RemovePeer wait for the transport thread")
CLOUDBOOK_TUNABLE(Ms, transport_linger_ms, Ms{200}, ENV,
                  "How long closing a socket may wait for unsent messages")
CLOUDBOOK_TUNABLE(Ms, reconnect_interval_ms, Ms{100}, ENV,
                  "A DEALER's first reconnection retry ...")
CLOUDBOOK_TUNABLE(Ms, reconnect_interval_max_ms, Ms{2000}, ENV, "... then doubling up to this")
CLOUDBOOK_TUNABLE(int, send_high_water_mark, 4, ENV,
                  "Messages queued per peer for sending before sends wait (tensors are big)")
CLOUDBOOK_TUNABLE(int, receive_high_water_mark, 4, ENV,
                  "Messages queued per peer on receipt before the peer's sends wait")
CLOUDBOOK_TUNABLE(size_t, max_concurrent_invokes, 8, ENV,
                  "Incoming invokes run on at most this many worker threads at once")
CLOUDBOOK_TUNABLE(size_t, max_queued_invokes, 64, ENV,
                  "Invokes waiting for a worker; beyond this they are answered busy")
CLOUDBOOK_TUNABLE(Ms, invoke_stop_grace_ms, Ms{500}, ENV,
                  "On stop, how long running invoke handlers get to notice the cancellation")
CLOUDBOOK_TUNABLE(size_t, max_queued_progress, 64, ENV,
                  "Progress messages a pending call keeps for its caller (more are dropped)")
CLOUDBOOK_TUNABLE(int, transport_receive_batch, 64, ENV,
                  "Messages the transport loop takes from a socket before it looks elsewhere")
CLOUDBOOK_TUNABLE(int, max_progress_in_flight, 4, ENV,
                  "Progress messages of one invoke on their way back before more are dropped")
CLOUDBOOK_TUNABLE(int, tick_heartbeat_fraction, 4, ENV,
                  "The transport loop ticks every heartbeat interval / this, clamped to ...")
CLOUDBOOK_TUNABLE(Ms, tick_min_ms, Ms{5}, ENV, "... at least this ...")
CLOUDBOOK_TUNABLE(Ms, tick_max_ms, Ms{250}, ENV, "... and at most this")
CLOUDBOOK_TUNABLE(Ms, outbox_retry_ms, Ms{2}, ENV,
                  "Poll wait while the caller outbox holds messages a full peer refused")
CLOUDBOOK_TUNABLE(Ms, log_throttle_window_ms, Ms{10000}, ENV,
                  "Repeated transport warnings are counted per this window ...")
CLOUDBOOK_TUNABLE(size_t, log_throttle_burst, 5, ENV,
                  "... and at most this many of one kind are logged in it")
CLOUDBOOK_TUNABLE(int, quiet_caller_peer_timeouts, 10, ENV,
                  "A caller silent for this many peer timeouts is forgotten by the callee")
CLOUDBOOK_TUNABLE(int, tcp_keepalive_interval_s, 1, ENV,
                  "TCP keepalive probes of a silent connection: one every this many seconds ...")
CLOUDBOOK_TUNABLE(int, tcp_keepalive_count, 3, ENV,
                  "... and the connection is dead after this many unanswered probes")
CLOUDBOOK_TUNABLE(int, router_monitor_event_batch, 64, ENV,
                  "Socket monitor events handled per wake-up")
CLOUDBOOK_TUNABLE(size_t, max_tracked_connections, 4096, ENV,
                  "Connections the socket monitor remembers (then it forgets them all)")
CLOUDBOOK_TUNABLE(size_t, kept_free_heap_bytes, size_t{768} << 20, FIXED,
                  "Freed memory the agent keeps for the next large message (malloc trim "
                  "threshold; set once at start, must fit an int)")

// --- Deployer ---
CLOUDBOOK_TUNABLE(double, deployer_progress_every_s, 2, ENV,
                  "A waiting deployer logs a \"waiting for ...\" line this often")
CLOUDBOOK_TUNABLE(double, deployer_observe_every_s, 0.2, ENV,
                  "How often a waiting deployer looks at the shared folder")
CLOUDBOOK_TUNABLE(double, quiet_intervals, 1.5, ENV,
                  "An agent silent this many announce intervals is quiet: it gets moved DUs "
                  "only when no other live agent can take them")
CLOUDBOOK_TUNABLE(double, first_sight_watch_intervals, 2, ENV,
                  "A fast start waits up to this many announce intervals for an agent seen once "
                  "to show a new sequence (one interval plus slack for a slow folder)")
CLOUDBOOK_TUNABLE(double, lost_min_announce_intervals, 2, ENV,
                  "The deployer's liveness timeout is at least this many announce intervals")
CLOUDBOOK_TUNABLE(double, lease_renew_every_s, 1.0, ENV,
                  "The deployer holding the project lease renews it this often")
CLOUDBOOK_TUNABLE(double, lease_settle_s, 0.5, ENV,
                  "A newly written lease settles this long before it is read back")
CLOUDBOOK_TUNABLE(double, lease_watch_every_s, 0.2, ENV,
                  "How often a waiting deployer re-reads the lease")

// --- Dashboard ---
CLOUDBOOK_TUNABLE(double, dashboard_refresh_s, 2.0, ENV,
                  "Default --refresh: the dashboard rereads the project this often (the web page "
                  "follows it)")
CLOUDBOOK_TUNABLE(Ms, dashboard_announce_every_ms, Ms{5000}, ENV,
                  "A dashboard rewrites its entry in the dashboard registry this often")
CLOUDBOOK_TUNABLE(Ms, dashboard_stale_ms, Ms{30000}, ENV,
                  "A registry entry older than this is left out")
CLOUDBOOK_TUNABLE(Ms, run_stalled_after_ms, Ms{30000}, ENV,
                  "A run whose progress file did not change for this long shows as stalled")
CLOUDBOOK_TUNABLE(Ms, stats_history_keep_ms, Ms{30 * 60 * 1000}, ENV,
                  "The dashboard keeps this much stats history per agent ...")
CLOUDBOOK_TUNABLE(size_t, stats_history_max_points, 2000, ENV, "... and at most this many points")
CLOUDBOOK_TUNABLE(Ms, dashboard_launch_wait_ms, Ms{10000}, ENV,
                  "How long the dashboard's \"launch agent\" waits for the agent to start")
CLOUDBOOK_TUNABLE(size_t, dashboard_log_tail_bytes, 2000, ENV,
                  "Bytes of a failed launch's log shown with its error")
CLOUDBOOK_TUNABLE(Ms, request_deadline_ms, Ms{10000}, ENV,
                  "A client must send its whole request within this")
CLOUDBOOK_TUNABLE(Ms, forward_deadline_ms, Ms{120000}, ENV,
                  "A request forwarded to another dashboard must be answered within this")
CLOUDBOOK_TUNABLE(Ms, gate_log_interval_ms, Ms{10000}, ENV,
                  "Refused connections are summed up in one log line this often")
CLOUDBOOK_TUNABLE(int, max_connections_per_client, 16, ENV,
                  "Open connections one client address may hold")
CLOUDBOOK_TUNABLE(int, max_connections, 512, ENV, "Open connections in all")
CLOUDBOOK_TUNABLE(size_t, max_request_head_bytes, 16 * 1024, ENV,
                  "Largest request line and headers the dashboard accepts")
CLOUDBOOK_TUNABLE(size_t, max_request_body_bytes, 64 * 1024, ENV,
                  "Largest request body the dashboard accepts")
CLOUDBOOK_TUNABLE(size_t, max_response_bytes, 16 * 1024 * 1024, ENV,
                  "Largest answer of a forwarded request")
CLOUDBOOK_TUNABLE(int, confusion_max_classes, 256, ENV,
                  "Results keep a confusion matrix and per-class scores up to this many classes")
CLOUDBOOK_TUNABLE(size_t, max_try_body_bytes, 4 * 1024 * 1024, ENV,
                  "Largest request of the dashboard's \"try it\" box (an uploaded image)")
CLOUDBOOK_TUNABLE(Ms, try_serve_timeout_ms, Ms{30000}, ENV,
                  "The dashboard waits this long for a model server's answer")
CLOUDBOOK_TUNABLE(size_t, max_chart_js_bytes, 4 * 1024 * 1024, ENV,
                  "Largest chart.js file the dashboard serves")

// --- cloudbook-serve (docs/serve.md) ---
CLOUDBOOK_TUNABLE(int, serve_max_batch, 256, ENV,
                  "Default --max-batch: samples cloudbook-serve runs through the model in one call")
CLOUDBOOK_TUNABLE(Ms, serve_max_wait_ms, Ms{0}, ENV,
                  "Default --max-wait-ms: an incomplete batch waits this long after its oldest "
                  "request for more (0: it starts when the model is free; what arrives while "
                  "it runs forms the next batch)")
CLOUDBOOK_TUNABLE(size_t, serve_max_queued_samples, 4096, ENV,
                  "Samples waiting for the model beyond which cloudbook-serve answers 503")
CLOUDBOOK_TUNABLE(size_t, serve_max_body_bytes, 8 * 1024 * 1024, ENV,
                  "Largest request body cloudbook-serve accepts (413 beyond)")
CLOUDBOOK_TUNABLE(int, serve_max_json_depth, 16, ENV,
                  "Deepest nesting of lists and objects in a request cloudbook-serve parses")
CLOUDBOOK_TUNABLE(int, serve_http_threads, 16, ENV,
                  "Requests cloudbook-serve reads and answers at once (others wait)")
CLOUDBOOK_TUNABLE(Ms, serve_announce_every_ms, Ms{5000}, ENV,
                  "cloudbook-serve rewrites its entry in distributed/serve/ this often")

// --- Shared-folder back ends (fs_adapters) ---
CLOUDBOOK_TUNABLE(Ms, rclone_start_budget_ms, Ms{20000}, ENV,
                  "How long the rclone daemon may take to start and answer")
CLOUDBOOK_TUNABLE(Ms, rclone_stop_grace_ms, Ms{5000}, ENV,
                  "How long a stopping rclone daemon gets before it is killed")
CLOUDBOOK_TUNABLE(Ms, rclone_connect_timeout_ms, Ms{5000}, ENV,
                  "Connection timeout of each request to the rclone daemon")
CLOUDBOOK_TUNABLE(size_t, rclone_kept_output_bytes, 2000, ENV,
                  "Bytes of rclone's output kept for error messages")
CLOUDBOOK_TUNABLE(Ms, rclone_first_backoff_ms, Ms{50}, ENV,
                  "First retry delay of a failed rclone operation, doubling ...")
CLOUDBOOK_TUNABLE(Ms, rclone_max_backoff_ms, Ms{2000}, ENV, "... up to this")
CLOUDBOOK_TUNABLE(Ms, rclone_settle_poll_ms, Ms{20}, ENV,
                  "How often a reader looks again at a name a write is replacing")
CLOUDBOOK_TUNABLE(Ms, duplicate_removal_margin_ms, Ms{1000}, ENV,
                  "Older duplicate copies closer than this to the kept one are left alone "
                  "(rclone filters on its own clock)")
CLOUDBOOK_TUNABLE(Ms, nfs_first_backoff_ms, Ms{50}, ENV,
                  "First retry delay of a failed NFS operation, doubling ...")
CLOUDBOOK_TUNABLE(Ms, nfs_max_backoff_ms, Ms{1000}, ENV, "... up to this")

// --- cloudbook-predict ---
CLOUDBOOK_TUNABLE(int, predict_batch_size, 1024, ENV,
                  "Default --batch-size of cloudbook-predict: samples predicted at once (a "
                  "multiple of 1024 keeps libtorch's chunks, hence the run's bits)")
CLOUDBOOK_TUNABLE(double, predict_progress_s, 2, ENV,
                  "cloudbook-predict prints a progress line this often on long inputs")
