// RaftClient: the election state machine (KIP-595 states plus KIP-996's prospective state), its
// durable transitions, the timer fiber, and the Vote / BeginQuorumEpoch / EndQuorumEpoch RPCs.
#include <algorithm>

#include "raft/raft_client.h"
#include "runtime/log.h"
#include "runtime/random.h"

namespace samsa::raft {

void RaftClient::timer_loop() {
  for (;;) {
    if (!mu_.lock(Deadline::never()).ok()) return;
    Instant next;
    {
      LockGuard guard(mu_);
      if (stopping_ || failed_) return;
      next = on_timer_locked();
    }
    if (state_changed_.wait(Deadline{next}).code() == Errc::cancelled) return;
  }
}

// Acts on whichever deadline of the current role passed; returns when to look again.
Instant RaftClient::on_timer_locked() {
  const Instant now = rt_.now();
  const bool voter = config_.is_voter(config_.node_id);
  switch (role_) {
    case RaftRole::unattached:
    case RaftRole::resigned:
      if (!voter) return now + std::chrono::milliseconds(config_.fetch_timeout_ms);  // the fetcher finds a leader
      if (now >= election_deadline_) (void)to_prospective_locked();
      return role_ == RaftRole::leader ? now : election_deadline_;
    case RaftRole::prospective:
    case RaftRole::candidate:
      if (now < election_deadline_) return election_deadline_;
      // Lost (split vote, no quorum reachable). A prospective that knows a live leader goes back
      // to it; otherwise back off before the next pre-vote round.
      if (role_ == RaftRole::prospective && election_.leader_id && election_.leader_id != config_.node_id) {
        (void)to_follower_locked(election_.epoch, *election_.leader_id);
        return fetch_deadline_;
      }
      election_deadline_ = now + random_backoff();
      set_role_locked(RaftRole::unattached);
      return election_deadline_;
    case RaftRole::follower:
      if (now < fetch_deadline_) return fetch_deadline_;
      if (voter) {
        (void)to_prospective_locked();
      } else {
        (void)to_unattached_locked(election_.epoch, std::nullopt);  // observers look for the leader again
      }
      return now;
    case RaftRole::leader: {
      // Check quorum: a leader that has not heard from a majority (itself included) within 1.5
      // fetch timeouts resigns, so a partitioned leader does not linger.
      std::vector<Instant> heard{now};
      for (const auto& [id, p] : voters_progress_) heard.push_back(p.last_fetch);
      std::sort(heard.begin(), heard.end(), std::greater<>());
      const Instant deadline = heard[config_.majority() - 1] + std::chrono::milliseconds(config_.fetch_timeout_ms * 3 / 2);
      if (now < deadline) return deadline;
      logf(rt_, LogLevel::info, "raft: leader {} lost contact with a majority in epoch {}", config_.node_id, election_.epoch);
      (void)to_resigned_locked();
      return election_deadline_;
    }
  }
  return now + std::chrono::milliseconds(config_.fetch_timeout_ms);
}

Status RaftClient::to_unattached_locked(int32_t epoch, std::optional<int32_t> voted) {
  const bool new_epoch = epoch != election_.epoch;
  SAMSA_TRY(persist_locked(ElectionState{epoch, std::nullopt, voted}));
  election_deadline_ = rt_.now() + random_election_timeout();
  if (new_epoch || role_ == RaftRole::follower || role_ == RaftRole::leader) {
    queue_leader_change_locked({std::nullopt, epoch}, 0);
  }
  set_role_locked(RaftRole::unattached);
  return Status{};
}

Status RaftClient::to_follower_locked(int32_t epoch, int32_t leader) {
  check(leader != config_.node_id, "following itself");
  check(!(role_ == RaftRole::leader && epoch == election_.epoch), "a leader follows another leader in its own epoch");
  const std::optional<int32_t> voted = epoch == election_.epoch ? election_.voted_id : std::nullopt;
  const bool changed = epoch != election_.epoch || election_.leader_id != leader || role_ != RaftRole::follower;
  SAMSA_TRY(persist_locked(ElectionState{epoch, leader, voted}));
  fetch_deadline_ = rt_.now() + std::chrono::milliseconds(config_.fetch_timeout_ms);
  if (changed) queue_leader_change_locked({leader, epoch}, 0);
  set_role_locked(RaftRole::follower);
  return Status{};
}

Status RaftClient::to_prospective_locked() {
  SAMSA_ASSERT(config_.is_voter(config_.node_id));
  election_deadline_ = rt_.now() + random_election_timeout();
  set_role_locked(RaftRole::prospective);
  start_vote_round_locked(true);
  return Status{};
}

Status RaftClient::to_candidate_locked() {
  SAMSA_TRY(persist_locked(ElectionState{election_.epoch + 1, std::nullopt, config_.node_id}));
  queue_leader_change_locked({std::nullopt, election_.epoch}, 0);
  election_deadline_ = rt_.now() + random_election_timeout();
  set_role_locked(RaftRole::candidate);
  start_vote_round_locked(false);
  return Status{};
}

void RaftClient::start_vote_round_locked(bool pre_vote) {
  ++vote_round_;
  granted_ = {config_.node_id};
  rejected_.clear();
  VoteRequest request;
  request.cluster_id = config_.cluster_id;
  request.candidate_epoch = pre_vote ? election_.epoch + 1 : election_.epoch;
  request.candidate_id = config_.node_id;
  request.last_offset_epoch = last_epoch_locked();
  request.last_offset = log_->log_end_offset();
  request.pre_vote = pre_vote;
  if (granted_.size() >= config_.majority()) {  // a quorum of one
    (void)(pre_vote ? to_candidate_locked() : to_leader_locked());
    return;
  }
  for (int32_t voter : voter_ids_) {
    if (voter == config_.node_id) continue;
    request.voter_id = voter;
    spawn_rpc("raft-vote", [this, voter, request] { send_vote(voter, request); });
  }
}

bool RaftClient::spawn_rpc(std::string name, std::function<void()> body) {
  if (rpc_fibers_.size() >= kRpcFibersMax) {
    logf(rt_, LogLevel::warn, "raft: {} RPC senders busy, {} skipped", rpc_fibers_.size(), name);
    return false;
  }
  // The set holds the id before the fiber first runs (spawned fibers start later).
  const FiberId id = rt_.spawn(std::move(name), [this, body = std::move(body)] {
    body();
    rpc_fibers_.erase(rt_.current_fiber());
  });
  rpc_fibers_.insert(id);
  return true;
}

void RaftClient::send_vote(int32_t voter, VoteRequest request) {
  Result<VoteResponse> response = transport_.vote(voter, request, rt_.after(std::chrono::milliseconds(config_.request_timeout_ms)));
  if (!response.ok() || !mu_.lock(Deadline::never()).ok()) return;
  LockGuard guard(mu_);
  if (stopping_ || failed_) return;
  on_vote_result_locked(voter, request, *response);
}

void RaftClient::on_vote_result_locked(int32_t voter, const VoteRequest& request, const VoteResponse& response) {
  if (response.error_code != 0) return;
  if (response.leader.leader_epoch > election_.epoch) {
    (void)observe_leader_locked(response.leader, voter);
    return;
  }
  if (config_.bugs.stale_vote && role_ == RaftRole::candidate && response.vote_granted &&
      response.leader.leader_epoch <= election_.epoch) {
    // Planted bug: any grant counts while a candidate, whatever epoch it was cast in (a late
    // pre-vote answered in the previous epoch, a vote of an earlier candidacy).
    granted_.insert(voter);
    if (granted_.size() >= config_.majority()) (void)to_leader_locked();
    return;
  }
  if (request.pre_vote) {
    if (role_ != RaftRole::prospective || request.candidate_epoch != election_.epoch + 1) return;  // an old round
    if (response.leader.leader_epoch == election_.epoch && response.leader.leader_id >= 0 &&
        response.leader.leader_id != config_.node_id && response.leader.leader_id != election_.leader_id) {
      (void)to_follower_locked(election_.epoch, response.leader.leader_id);  // there is a leader after all
      return;
    }
    (response.vote_granted ? granted_ : rejected_).insert(voter);
    if (granted_.size() >= config_.majority()) (void)to_candidate_locked();
    return;
  }
  // A vote counts only for the candidacy it was cast in.
  const bool current = role_ == RaftRole::candidate && request.candidate_epoch == election_.epoch &&
                       response.leader.leader_epoch == election_.epoch;
  if (!current) return;
  (response.vote_granted ? granted_ : rejected_).insert(voter);
  if (granted_.size() >= config_.majority()) (void)to_leader_locked();
}

Status RaftClient::observe_leader_locked(const CurrentLeader& leader, int32_t from) {
  (void)from;
  const bool has_leader = leader.leader_id >= 0 && leader.leader_id != config_.node_id;
  if (leader.leader_epoch > election_.epoch) {
    return has_leader ? to_follower_locked(leader.leader_epoch, leader.leader_id)
                      : to_unattached_locked(leader.leader_epoch, std::nullopt);
  }
  // Same epoch: news only if this node knew no leader (a prospective that gave up on its leader
  // is not sent back to it by voters that have not noticed yet).
  if (leader.leader_epoch == election_.epoch && has_leader && role_ != RaftRole::follower && election_.leader_id != leader.leader_id) {
    check(role_ != RaftRole::leader && role_ != RaftRole::resigned, "another leader in this node's own epoch");
    if (role_ == RaftRole::leader || role_ == RaftRole::resigned) return Status{};
    return to_follower_locked(leader.leader_epoch, leader.leader_id);
  }
  return Status{};
}

Status RaftClient::to_resigned_locked() {
  SAMSA_ASSERT(role_ == RaftRole::leader);
  election_deadline_ = rt_.now() + random_election_timeout();
  queue_leader_change_locked({std::nullopt, election_.epoch}, 0);
  set_role_locked(RaftRole::resigned);
  // Preferred successors: the most caught-up voters first, so the likeliest winner starts first.
  std::vector<std::pair<int64_t, int32_t>> by_progress;
  for (const auto& [id, p] : voters_progress_) by_progress.emplace_back(-p.end_offset, id);
  std::sort(by_progress.begin(), by_progress.end());
  EndQuorumEpochRequest request{config_.cluster_id, config_.node_id, election_.epoch, {}};
  for (const auto& [neg_end, id] : by_progress) request.preferred_successors.push_back(id);
  for (int32_t voter : request.preferred_successors) {
    spawn_rpc("raft-end-epoch", [this, voter, request] { send_end_epoch(voter, request); });
  }
  return Status{};
}

void RaftClient::send_end_epoch(int32_t voter, EndQuorumEpochRequest request) {
  (void)transport_.end_quorum_epoch(voter, request, rt_.after(std::chrono::milliseconds(config_.request_timeout_ms)));
}

void RaftClient::send_begin_epoch(int32_t voter, int32_t epoch) {
  // Retried until the voter answers or fetches, or the epoch is over: a voter that missed it
  // would otherwise wait out its election timeout and disturb the new leader.
  for (;;) {
    BeginQuorumEpochRequest request{config_.cluster_id, config_.node_id, epoch, voter};
    Result<BeginQuorumEpochResponse> response =
        transport_.begin_quorum_epoch(voter, request, rt_.after(std::chrono::milliseconds(config_.request_timeout_ms)));
    if (!mu_.lock(Deadline::never()).ok()) return;
    {
      LockGuard guard(mu_);
      if (stopping_ || failed_ || role_ != RaftRole::leader || election_.epoch != epoch) return;
      if (response.ok() && response->leader.leader_epoch > epoch) {
        (void)observe_leader_locked(response->leader, voter);
        return;
      }
      if (response.ok() && response->error_code == 0) return;
      if (voters_progress_[voter].fetched) return;
    }
    if (!rt_.sleep(std::chrono::milliseconds(std::max<int64_t>(config_.retry_backoff_ms, 100))).ok()) return;
  }
}

// The checks every quorum RPC from a voter starts with.
RaftError RaftClient::precheck_locked(const std::string& cluster_id, int32_t sender, bool self_must_vote) const {
  if (!started_ || stopping_ || failed_) return RaftError::unavailable;
  if (cluster_id != config_.cluster_id) return RaftError::inconsistent_cluster_id;
  if (!config_.is_voter(sender) || (self_must_vote && !config_.is_voter(config_.node_id))) return RaftError::inconsistent_voter_set;
  return RaftError::none;
}

VoteResponse RaftClient::handle_vote(const VoteRequest& request) {
  VoteResponse response;
  if (!mu_.lock(Deadline::never()).ok()) return error_response<VoteResponse>(RaftError::unavailable);
  LockGuard guard(mu_);
  response.leader = current_leader_locked();
  response.error_code = static_cast<int16_t>(precheck_locked(request.cluster_id, request.candidate_id, true));
  if (response.error_code != 0) return response;
  const bool up_to_date = log_up_to_date_locked(request.last_offset_epoch, request.last_offset);
  if (request.pre_vote) {
    // KIP-996: no state changes; refuse while this node hears from a leader.
    const bool hears_leader = role_ == RaftRole::leader || (role_ == RaftRole::follower && rt_.now() < fetch_deadline_);
    response.vote_granted = request.candidate_epoch > election_.epoch && up_to_date && !hears_leader;
    return response;
  }
  if (request.candidate_epoch < election_.epoch) return response;
  if (request.candidate_epoch > election_.epoch) {
    if (!to_unattached_locked(request.candidate_epoch, std::nullopt).ok()) return response;
  }
  const bool free_to_vote = (role_ == RaftRole::unattached || role_ == RaftRole::prospective) && !election_.leader_id;
  const bool vote_open = !election_.voted_id || election_.voted_id == request.candidate_id || config_.bugs.vote_twice;
  bool grant = free_to_vote && vote_open && up_to_date;
  if (grant && election_.voted_id != request.candidate_id) {
    ElectionState next{election_.epoch, std::nullopt, request.candidate_id};
    if (config_.bugs.vote_twice && election_.voted_id) {
      // The planted bug overwrites the vote; persist_locked's own check would refuse.
      grant = quorum_file_.store(next, voter_ids_, !config_.bugs.volatile_quorum_state).ok();
      if (grant) election_ = next;
    } else {
      grant = persist_locked(next).ok();
    }
    if (grant) {
      election_deadline_ = rt_.now() + random_election_timeout();
      set_role_locked(RaftRole::unattached);
    }
  }
  response.vote_granted = grant;
  response.leader = current_leader_locked();
  return response;
}

BeginQuorumEpochResponse RaftClient::handle_begin_quorum_epoch(const BeginQuorumEpochRequest& request) {
  BeginQuorumEpochResponse response;
  if (!mu_.lock(Deadline::never()).ok()) return error_response<BeginQuorumEpochResponse>(RaftError::unavailable);
  LockGuard guard(mu_);
  response.leader = current_leader_locked();
  response.error_code = static_cast<int16_t>(precheck_locked(request.cluster_id, request.leader_id, false));
  if (response.error_code != 0) return response;
  if (request.leader_epoch < election_.epoch) {
    response.error_code = static_cast<int16_t>(RaftError::fenced_leader_epoch);
  } else {
    (void)observe_leader_locked(CurrentLeader{request.leader_id, request.leader_epoch}, request.leader_id);
    if (role_ == RaftRole::follower && election_.leader_id == request.leader_id) {
      fetch_deadline_ = rt_.now() + std::chrono::milliseconds(config_.fetch_timeout_ms);
    }
    response.leader = current_leader_locked();
  }
  return response;
}

EndQuorumEpochResponse RaftClient::handle_end_quorum_epoch(const EndQuorumEpochRequest& request) {
  EndQuorumEpochResponse response;
  if (!mu_.lock(Deadline::never()).ok()) return error_response<EndQuorumEpochResponse>(RaftError::unavailable);
  LockGuard guard(mu_);
  response.leader = current_leader_locked();
  response.error_code = static_cast<int16_t>(precheck_locked(request.cluster_id, request.leader_id, false));
  if (response.error_code != 0) return response;
  if (request.leader_epoch > election_.epoch) {
    (void)to_unattached_locked(request.leader_epoch, std::nullopt);
  } else if (request.leader_epoch == election_.epoch && role_ == RaftRole::follower &&
             election_.leader_id == request.leader_id) {
    // KIP-595: the leader is going away; start an election soon, the best-placed successor first.
    const auto it = std::find(request.preferred_successors.begin(), request.preferred_successors.end(), config_.node_id);
    const int64_t position = it - request.preferred_successors.begin();
    const int64_t delay_ms = position == 0 ? 0 : std::min(config_.election_backoff_max_ms, config_.retry_backoff_ms << std::min<int64_t>(position, 10));
    fetch_deadline_ = rt_.now() + std::chrono::milliseconds(delay_ms + in_range(rt_.random_u64(), 0, config_.retry_backoff_ms));
    state_changed_.notify_all();
  }
  response.leader = current_leader_locked();
  return response;
}

}  // namespace samsa::raft
