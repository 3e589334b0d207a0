#include "gateway/inspect/alt_reading.h"

#include <algorithm>

#include "classifiers/dns.h"
#include "classifiers/http.h"
#include "classifiers/tls.h"

namespace vigie {
namespace {

std::string_view WhatDiverged(uint8_t why) {
  if (why & kAltFragment) return "ip_fragment";
  if (why & kAltOverlap) return "tcp_overlap";
  if (why & kAltUrgent) return "tcp_urgent";
  if (why & kAltMd5) return "tcp_md5";
  return "tcp_ttl";
}

}  // namespace

AltReader::AltReader(InspectEnv env) : env_(env), scratch_(kMaxClientHelloBytes) {}

AltReader::State AltReader::Check(const PacketContext& cx, PacketVerdict* v, bool* finished) {
  *finished = false;
  Flow* flow = cx.flow;
  const AltReading& alt = flow->alt;
  if (alt.why == 0) return State::kNone;
  if (alt.lost) return State::kOpen;
  absl::Span<const uint8_t> bytes = env_.flows->AltContiguous(flow);
  if (bytes.empty()) return State::kOpen;
  // The alternate's first message, whole, and the names it carries.
  StreamKind kind = flow->kind;
  if (kind == StreamKind::kUnknown) {
    HttpRequestInfo probe;
    kind = bytes[0] == 0x16                                                          ? StreamKind::kTls
           : ParseHttpRequest(bytes, &probe).error != HttpMalformed::kNotHttp       ? StreamKind::kHttp
           : SniffDnsTcpQuery(bytes) == ParseStatus::kOk                             ? StreamKind::kDnsTcp
                                                                                     : StreamKind::kUnknown;
  }
  std::string_view* names = names_;
  size_t n = 0;
  ParseStatus st = ParseStatus::kMalformed;
  ClientHelloInfo ch;
  HttpRequestInfo http;
  DnsMessageInfo& dns = dns_;
  switch (kind) {
    case StreamKind::kTls: {
      st = ParseClientHelloStream(bytes, absl::MakeSpan(scratch_), &ch).status;
      if (st == ParseStatus::kOk && ch.has_sni) {
        for (n = 0; n < ch.sni_count; ++n) names[n] = ch.sni_names[n];
        if (n == 0) names[n++] = ch.sni;
      }
      break;
    }
    case StreamKind::kHttp: {
      st = ParseHttpRequest(bytes, &http).status;
      if (st != ParseStatus::kNeedMore) {
        for (n = 0; n < http.host_count; ++n) names[n] = http.host_names[n];
        if (n == 0 && !http.host.empty()) names[n++] = http.host;
      }
      break;
    }
    case StreamKind::kDnsTcp: {
      DnsTcpFrame f = ReadDnsTcpFrame(bytes);
      st = f.status;
      if (st == ParseStatus::kOk && ParseDnsMessage(f.msg, &dns).status != ParseStatus::kNeedMore &&
          !dns.is_response) {
        for (n = 0; n < dns.question_count; ++n) names[n] = dns.questions[n].view();
      }
      break;
    }
    default:
      break;
  }
  if (st == ParseStatus::kNeedMore) return State::kOpen;
  if (n == 0) return State::kRead;  // not readable as a message: a server rejects it too
  Decision d = env_.decider->NewDecision(cx, ProtoOfStream(kind), Endpoints::kFlow);
  auto span = absl::MakeConstSpan(names, n);
  Action a = env_.decider->StrictestAction(d, span);
  if (a > static_cast<Action>(flow->action) && a > v->action) {
    env_.decider->DecideAlternate(&d, span, WhatDiverged(alt.why));
    v->action = std::max(v->action, d.verdict.action);
    v->decided = true;
    flow->action = std::max(flow->action, static_cast<uint8_t>(d.verdict.action));
    if (d.verdict.action == Action::kBlock) {
      FinishFlow(env_, flow, v);
      *finished = true;
    }
  } else {
    // Not stricter than the flow so far: decided with the stream's own
    // reading when its inspector decides on this packet.
    env_.decider->SetAlternate(flow->id, span, WhatDiverged(alt.why));
  }
  return State::kRead;
}

Action AltReader::DecideReading(const PacketContext& cx, Proto proto, Endpoints e,
                                absl::Span<const std::string_view> names, std::string_view what, PacketVerdict* v) {
  if (names.empty()) return Action::kAllow;
  Decision d = env_.decider->NewDecision(cx, proto, e);
  Action a = env_.decider->StrictestAction(d, names);
  if (a > v->action) {
    env_.decider->DecideAlternate(&d, names, what);
    v->action = std::max(v->action, d.verdict.action);
    v->decided = true;
    return d.verdict.action;
  }
  // Not stricter than the packet so far: decided with the first reading
  // when its inspector decides on this packet.
  env_.decider->SetAlternate(cx.flow->id, names, what);
  return Action::kAllow;
}

void AltReader::AfterDecision(const PacketContext& cx, State before, PacketVerdict* v) {
  Flow* flow = cx.flow;
  if (before != State::kOpen || flow->state != FlowState::kDecided || !v->decided ||
      flow->action == static_cast<uint8_t>(Action::kBlock)) {
    return;
  }
  env_.decider->Uninspected(ProtoOfStream(flow->kind), "alternate_reading", cx, v);
  flow->action = std::max(flow->action, static_cast<uint8_t>(v->action));
  v->action = static_cast<Action>(flow->action);
}

}  // namespace vigie
