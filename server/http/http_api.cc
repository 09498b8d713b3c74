// Copyright specinv authors.

#include "server/http/http_api.h"

#include <httplib.h>

#include <future>
#include <map>
#include <utility>

#include <google/protobuf/util/json_util.h>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "server/conversion.h"
#include "server/http/http_status.h"
#include "server/http/kserve.h"
#include "server/http/query_fields.h"
#include "server/http/vocode_stream.h"
#include "server/logging.h"
#include "server/rpc/serve.h"
#include "server/status_mapping.h"

namespace specinv::server {
namespace {

constexpr char kNpyType[] = "application/x-npy";

// Aliases shared by the routes (a route's message may lack some: those keys
// are then unknown parameters of that route).
const QueryFieldOptions& RouteQuery(absl::string_view route) {
  static const auto* const kInversion = new QueryFieldOptions{
      {{"preset", "config.preset"},
       {"sample_rate", "config.sample_rate_hertz"},
       {"method", "options.method"},
       {"iterations", "options.iterations"},
       {"seed", "options.seed"},
       {"encoding", "output.encoding"},
       {"length_samples", "output.length_samples"},
       {"output_rate", "output.sample_rate_hertz"},
       {"layout", "mel.layout"}},
      {}};
  static const auto* const kSpectrogram = new QueryFieldOptions{
      {{"preset", "config.preset"},
       {"sample_rate", "config.sample_rate_hertz"},
       {"method", "options.method"},
       {"iterations", "options.iterations"},
       {"seed", "options.seed"},
       {"encoding", "output.encoding"},
       {"length_samples", "output.length_samples"},
       {"output_rate", "output.sample_rate_hertz"},
       {"layout", "magnitude.layout"}},
      {}};
  static const auto* const kAnalyze =
      new QueryFieldOptions{{{"preset", "config.preset"}, {"kind", "kind"}, {"layout", "layout"}}, {}};
  static const auto* const kRender = new QueryFieldOptions{{{"preset", "config.preset"},
                                                            {"kind", "spectrogram_kind"},
                                                            {"view", "view"},
                                                            {"colormap", "colormap"},
                                                            {"width", "width_pixels"},
                                                            {"height", "height_pixels"},
                                                            {"sample_rate", "config.sample_rate_hertz"},
                                                            {"layout", "spectrogram.layout"}},
                                                           {}};
  static const auto* const kReorder = new QueryFieldOptions{{{"preset", "config.preset"},
                                                             {"strategy", "strategy"},
                                                             {"sort_key", "sort_key"},
                                                             {"encoding", "output.encoding"}},
                                                            {}};
  static const auto* const kTransform = new QueryFieldOptions{{{"preset", "config.preset"},
                                                               {"phase", "phase"},
                                                               {"method", "inversion.method"},
                                                               {"iterations", "inversion.iterations"},
                                                               {"encoding", "output.encoding"}},
                                                              {"band_mutes"}};
  static const auto* const kVocode = new QueryFieldOptions{{{"preset", "config.preset"},
                                                            {"sample_rate", "config.sample_rate_hertz"},
                                                            {"domain", "input_domain"}},
                                                           {"chunk_frames"}};
  if (route == "reorder") return *kReorder;
  if (route == "transform") return *kTransform;
  if (route == "invert-mel") return *kInversion;
  if (route == "invert-spectrogram") return *kSpectrogram;
  if (route == "analyze") return *kAnalyze;
  if (route == "vocode") return *kVocode;
  return *kRender;
}

// The URL's query parameters only (httplib also parses a form-encoded body
// into req.params; our bodies are data, never forms).
absl::Status QueryInto(const httplib::Request& req, absl::string_view route, google::protobuf::Message* message) {
  httplib::Params params;
  if (const size_t q = req.target.find('?'); q != std::string::npos) {
    httplib::detail::parse_query_text(req.target.substr(q + 1), params);
  }
  return SetFieldsFromQuery(std::multimap<std::string, std::string>(params.begin(), params.end()), RouteQuery(route),
                            message);
}

// The whole body, false when it is larger than `max_bytes` (answered 413).
// Read through a ContentReader: httplib caps bodies sent as
// application/x-www-form-urlencoded (curl's default for --data-binary) at
// 8 KiB when it reads them itself.
bool ReadBody(const httplib::Request& req, const httplib::ContentReader& reader, int64_t max_bytes,
              std::string* body) {
  uint64_t declared = 0;
  if (absl::SimpleAtoi(req.get_header_value("Content-Length"), &declared) &&
      declared > static_cast<uint64_t>(max_bytes)) {
    return false;
  }
  const bool complete = reader([body, max_bytes](const char* data, size_t length) {
    body->append(data, length);
    return static_cast<int64_t>(body->size()) <= max_bytes;
  });
  return complete && static_cast<int64_t>(body->size()) <= max_bytes;
}

void WriteTooLarge(int64_t max_bytes, httplib::Response& res) {
  res.status = 413;
  res.set_content(ErrorJson(InvalidField("body", absl::StrFormat("is larger than the server's --max-message-mb=%g",
                                                                 static_cast<double>(max_bytes) / (1 << 20))),
                            ""),
                  "application/json");
}

absl::Status RequireBody(const std::string& body, absl::string_view what) {
  if (body.empty()) return InvalidField("body", absl::StrCat("is empty; send ", what));
  return absl::OkStatus();
}

// An audio file body into `audio`.
absl::Status AudioFileInto(const std::string& body, v1::Audio* audio) {
  if (absl::Status s = RequireBody(body, "an audio file (WAV, FLAC, OGG, MP3)"); !s.ok()) return s;
  audio->set_encoded_data(body);
  return absl::OkStatus();
}

void WriteInversionHeaders(double sc_db, int iterations, const char* sc_header, httplib::Response& res) {
  res.set_header(sc_header, absl::StrFormat("%.3f", sc_db));
  res.set_header("X-Iterations", absl::StrCat(iterations));
}

// band_mutes=LOW-HIGH[,LOW-HIGH...] in hertz (a repeated message field, so
// not reachable by path).
absl::Status BandMutesInto(const httplib::Request& req, v1::TransformRequest* r) {
  if (!req.has_param("band_mutes")) return absl::OkStatus();
  const std::string text = req.get_param_value("band_mutes");
  for (absl::string_view band : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    std::pair<std::string, std::string> edges = absl::StrSplit(band, absl::MaxSplits('-', 1));
    double low = 0.0;
    double high = 0.0;
    if (!absl::SimpleAtod(edges.first, &low) || !absl::SimpleAtod(edges.second, &high)) {
      return InvalidField("band_mutes", absl::StrCat("must be LOW-HIGH[,LOW-HIGH...] in hertz, got \"",
                                                     BoundedEcho(text), "\""));
    }
    v1::BandMute* mute = r->add_band_mutes();
    mute->set_low_hertz(low);
    mute->set_high_hertz(high);
  }
  return absl::OkStatus();
}

// The content type of an encoded audio answer.
const char* AudioContentType(v1::AudioEncoding encoding) {
  switch (encoding) {
    case v1::AUDIO_ENCODING_FLAC: return "audio/flac";
    case v1::AUDIO_ENCODING_OGG_VORBIS: return "audio/ogg";
    case v1::AUDIO_ENCODING_OGG_OPUS: return "audio/ogg";  // RFC 7845 (codecs=opus)
    case v1::AUDIO_ENCODING_MP3: return "audio/mpeg";
    case v1::AUDIO_ENCODING_PCM_FLOAT32_LE:
    case v1::AUDIO_ENCODING_PCM_INT16_LE: return "application/octet-stream";
    case v1::AUDIO_ENCODING_WAV_MULAW:
    case v1::AUDIO_ENCODING_WAV_ALAW:
    default: return "audio/wav";
  }
}

// Input-domain diagnostics: one X-Warning header each, header-safe text
// (the server's own sentences, a few hundred characters).
template <typename Strings>
void SetWarningHeaders(const Strings& warnings, httplib::Response& res) {
  for (const std::string& warning : warnings) {
    std::string text = warning;
    for (char& c : text) {
      if (c < 0x20 || c == 0x7f) c = ' ';
    }
    res.set_header("X-Warning", text);
  }
}

void WriteAudio(const v1::Audio& audio, httplib::Response& res) {
  const std::string& bytes = audio.has_pcm_data() ? audio.pcm_data() : audio.encoded_data();
  res.set_header("X-Sample-Rate", absl::StrCat(audio.sample_rate_hertz()));
  res.set_header("X-Channels", absl::StrCat(std::max(1, audio.channel_count())));
  res.set_header("X-Audio-Encoding", v1::AudioEncoding_Name(audio.encoding()));
  res.set_content(bytes, AudioContentType(audio.encoding()));
}

using ErrorBody = std::string (*)(const absl::Status& status, absl::string_view request_id);

std::string KserveErrorBody(const absl::Status& status, absl::string_view) { return kserve::ErrorJson(status); }

void WriteError(const absl::Status& status, const std::string& request_id, httplib::Response& res,
                ErrorBody body = &ErrorJson) {
  res.status = HttpStatusOf(status.code());
  if (std::optional<std::string> retry_after = RetryAfterOf(status)) res.set_header("Retry-After", *retry_after);
  if (std::optional<std::string> ms = RetryAfterMsOf(status)) res.set_header("X-Retry-After-Ms", *ms);
  if (status.code() == absl::StatusCode::kUnauthenticated) res.set_header("WWW-Authenticate", "Bearer");
  res.set_content(body(status, request_id), "application/json");
}

std::optional<std::string> HeaderOf(const httplib::Request& req, const char* name) {
  if (!req.has_header(name)) return std::nullopt;
  return req.get_header_value(name);
}

// Request id, authorization and peer of an HTTP call.
HttpOrigin OriginOf(const httplib::Request& req) {
  HttpOrigin origin;
  origin.request_id = req.get_header_value("X-Request-Id");
  origin.authorization = HeaderOf(req, "Authorization");
  origin.peer = absl::StrCat("http:", req.remote_addr, ":", req.remote_port);
  return origin;
}

// What Serve needs of the HttpApi.
struct ServeContext {
  const HttpApi::Deps& deps;
  const std::atomic<bool>& draining;
  const std::atomic<bool>& cancelled;
  std::atomic<int>& in_flight;
  ErrorBody error_body;
};

// Begin (auth, request id, the X-Request-Timeout deadline) and Shed of an
// HTTP call; the status to end it with when it must not go on. Streams are
// not shed (as gRPC StreamVocode): --max-streams admits them and the
// scheduler shares the workers.
absl::Status BeginCall(const ServeContext& ctx, const char* method, const httplib::Request& req,
                       httplib::Response& res, std::shared_ptr<CallRecord>* call, bool shed = true) {
  HttpOrigin origin = OriginOf(req);
  origin.cancelled = &ctx.cancelled;
  absl::Status header = absl::OkStatus();
  if (std::optional<std::string> timeout = HeaderOf(req, "X-Request-Timeout")) {
    double seconds = 0.0;
    if (!absl::SimpleAtod(*timeout, &seconds) || !(seconds > 0.0 && seconds <= 86400.0)) {
      header = InvalidField("X-Request-Timeout", absl::StrCat("must be seconds in (0, 86400], got \"",
                                                               BoundedEcho(*timeout), "\""));
    } else {
      origin.deadline = absl::Now() + absl::Seconds(seconds);
    }
  }
  absl::Status s;
  *call = ctx.deps.life->Begin(method, origin, &s);
  res.set_header("X-Request-Id", (*call)->request_id);
  if (s.ok()) s = header;
  if (s.ok() && ctx.draining) s = absl::UnavailableError("server is shutting down; not accepting new calls");
  if (s.ok() && shed) s = ctx.deps.life->Shed();
  return s;
}

// One call: Begin (auth, request id) -> Shed -> convert the HTTP request
// (body, query) -> Prepare -> Admit -> Submit and wait -> respond -> End.
template <typename Request, typename Response>
void Serve(const ServeContext& ctx, const char* method, const httplib::Request& req, httplib::Response& res,
           const std::function<absl::Status(Request*)>& convert,
           absl::StatusOr<Prepared> (*prepare)(const RpcEnv&, const Request&, Response*),
           const std::function<absl::Status(const Response&, httplib::Response&)>& respond) {
  const HttpApi::Deps& deps = ctx.deps;
  ++ctx.in_flight;
  std::shared_ptr<CallRecord> call;
  absl::Status s = BeginCall(ctx, method, req, res, &call);
  Request request;
  Response response;
  if (s.ok()) s = RunContained(method, call->request_id, [&] { return convert(&request); });
  Prepared prepared;
  if (s.ok()) s = internal::PrepareAndAdmit(*deps.life, *deps.env, *call, request, &response, prepare, &prepared);
  if (s.ok()) {
    std::promise<absl::Status> done;
    std::future<absl::Status> result = done.get_future();
    s = internal::SubmitRunners(*deps.life, call, nullptr, std::move(prepared),
                                [&done](const absl::Status& status) { done.set_value(status); });
    if (s.ok()) s = result.get();  // the pool always runs or drops a queued job, never loses it
  }
  if (s.ok()) s = RunContained(method, call->request_id, [&] { return respond(response, res); });
  deps.life->End(*call, nullptr, s);
  if (!s.ok()) WriteError(s, call->request_id, res, ctx.error_body);
  --ctx.in_flight;
}

// Registers POST `path`: reads the body (413 beyond `max_body`), then Serve.
template <typename Request, typename Response>
void Post(httplib::Server& http, const char* path, const char* method,
          const std::function<ServeContext(ErrorBody)>& context, int64_t max_body,
          std::function<absl::Status(const httplib::Request&, const std::string&, Request*)> convert,
          absl::StatusOr<Prepared> (*prepare)(const RpcEnv&, const Request&, Response*),
          std::function<absl::Status(const Response&, httplib::Response&)> respond) {
  http.Post(path, [=](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
    std::string body;
    if (!ReadBody(req, reader, max_body, &body)) return WriteTooLarge(max_body, res);
    Serve<Request, Response>(
        context(&ErrorJson), method, req, res, [&](Request* r) { return convert(req, body, r); }, prepare, respond);
  });
}

// A KServe v2 infer call of `model` as the RPC whose request is
// InferRequest::*field.
template <typename Request, typename Response>
void Infer(const ServeContext& ctx, const char* method, const httplib::Request& req, httplib::Response& res,
           const kserve::Model& model, const std::string& body, Request kserve::InferRequest::*field,
           absl::StatusOr<Prepared> (*prepare)(const RpcEnv&, const Request&, Response*)) {
  kserve::InferRequest infer;
  Serve<Request, Response>(
      ctx, method, req, res,
      [&](Request* r) {
        std::optional<int64_t> header_length;
        if (std::optional<std::string> h = HeaderOf(req, "Inference-Header-Content-Length")) {
          int64_t n = 0;
          if (!absl::SimpleAtoi(*h, &n)) {
            return InvalidField("Inference-Header-Content-Length",
                                absl::StrCat("must be a byte count, got \"", BoundedEcho(*h), "\""));
          }
          header_length = n;
        }
        absl::StatusOr<kserve::InferRequest> parsed = kserve::ParseInferRequest(
            model, body, header_length, ctx.deps.life->limits().max_job_memory_bytes);
        if (!parsed.ok()) return parsed.status();
        infer = *std::move(parsed);
        *r = std::move(infer.*field);
        return absl::OkStatus();
      },
      prepare,
      [&](const Response& r, httplib::Response& out) {
        absl::StatusOr<kserve::InferResponseBody> answer = kserve::InferResponseJson(model, infer, r);
        if (!answer.ok()) return answer.status();
        if (answer->header_length) {
          out.set_header("Inference-Header-Content-Length", absl::StrCat(*answer->header_length));
          out.set_content(answer->body, "application/octet-stream");
        } else {
          out.set_content(answer->body, "application/json");
        }
        return absl::OkStatus();
      });
}

// POST /v1/vocode: the body's mel vocoded chunk by chunk (vocode_stream.h),
// each chunk's audio sent as one HTTP chunk as soon as it is final. Errors
// found before the first byte (auth, config, body, limits) are JSON errors;
// a stream that fails later (deadline, cancellation) is cut off without the
// terminating chunk, so the client sees an incomplete transfer.
void ServeVocode(const ServeContext& ctx, const httplib::Request& req, const std::string& body,
                 httplib::Response& res) {
  constexpr char kMethod[] = "StreamVocode";
  const CallLifecycle& life = *ctx.deps.life;
  ++ctx.in_flight;
  std::shared_ptr<CallRecord> call;
  absl::Status s = BeginCall(ctx, kMethod, req, res, &call, /*shed=*/false);
  v1::StreamVocodeConfig config;
  RealMatrix mel;
  int chunk_frames = 16;
  if (s.ok()) {
    s = RunContained(kMethod, call->request_id, [&]() -> absl::Status {
      if (absl::Status b = RequireBody(body, "a .npy mel spectrogram (n_mels, frames)"); !b.ok()) return b;
      if (absl::Status q = QueryInto(req, "vocode", &config); !q.ok()) return q;
      if (req.has_param("chunk_frames") && !absl::SimpleAtoi(req.get_param_value("chunk_frames"), &chunk_frames)) {
        return InvalidField("chunk_frames",
                            absl::StrCat("must be an integer, got \"", BoundedEcho(req.get_param_value("chunk_frames")),
                                         "\""));
      }
      v1::Tensor tensor;
      tensor.set_npy_data(body);
      tensor.set_layout(config.layout());
      absl::StatusOr<RealMatrix> parsed = TensorToRealMatrix(tensor, "body");
      if (!parsed.ok()) return parsed.status();
      mel = *std::move(parsed);
      return absl::OkStatus();
    });
  }
  std::shared_ptr<VocodeStream> stream;
  if (s.ok()) {
    absl::StatusOr<std::unique_ptr<VocodeStream>> started =
        VocodeStream::Start(ctx.deps.vocode, config, std::move(mel), chunk_frames, call->deadline, &ctx.cancelled);
    if (started.ok()) {
      stream = *std::move(started);
    } else {
      s = started.status();
    }
  }
  if (!s.ok()) {
    life.End(*call, nullptr, s);
    WriteError(s, call->request_id, res);
    --ctx.in_flight;
    return;
  }
  res.set_header("X-Sample-Rate", absl::StrCat(stream->sample_rate()));
  res.set_header("X-Channels", "1");
  res.set_header("X-Audio-Encoding", v1::AudioEncoding_Name(stream->encoding()));
  SetWarningHeaders(stream->warnings(), res);
  std::atomic<int>* in_flight = &ctx.in_flight;
  res.set_chunked_content_provider(
      "application/octet-stream",
      [stream](size_t, httplib::DataSink& sink) {
        std::string pcm;
        if (stream->Next(&pcm)) {
          if (sink.write(pcm.data(), pcm.size())) return true;
          stream->Cancel();
          return false;
        }
        if (!stream->status().ok()) return false;  // cut off: no terminating chunk
        sink.done();
        return true;
      },
      [stream, call, &life, in_flight](bool success) {
        absl::Status status = stream->status();
        if (status.ok() && !success) status = absl::CancelledError("the client stopped reading; the stream was stopped");
        stream->Cancel();  // frees the DSP state of a stream the client left
        call->audio_seconds = stream->audio_seconds();
        call->queue_ms = stream->max_queue_ms();
        life.End(*call, nullptr, status);
        --*in_flight;
      });
}

template <typename Response>
absl::Status RespondAudio(const Response& r, httplib::Response& out) {
  WriteAudio(r.audio(), out);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<HttpApi>> HttpApi::Start(const Deps& deps, const std::string& host, int port) {
  std::unique_ptr<HttpApi> api(new HttpApi());
  api->deps_ = deps;
  api->http_ = std::make_unique<httplib::Server>();
  api->http_->set_payload_max_length(static_cast<size_t>(std::max<int64_t>(deps.max_body_bytes, 1)));
  api->Routes();
  api->port_ = port == 0 ? api->http_->bind_to_any_port(host) : (api->http_->bind_to_port(host, port) ? port : -1);
  if (api->port_ <= 0) {
    return absl::UnavailableError(absl::StrFormat("http: cannot listen on %s:%d (--http-port)", host, port));
  }
  httplib::Server* http = api->http_.get();
  api->thread_ = std::thread([http] { http->listen_after_bind(); });
  return api;
}

HttpApi::~HttpApi() { Stop(absl::Now()); }

void HttpApi::Drain() { draining_ = true; }

void HttpApi::Stop(absl::Time deadline) {
  if (stopped_) return;
  stopped_ = true;
  draining_ = true;
  while (in_flight_.load() > 0 && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(10));
  cancelled_ = true;  // jobs still running stop at their next check
  if (http_) http_->stop();
  if (thread_.joinable()) thread_.join();
}

void HttpApi::Routes() {
  httplib::Server& http = *http_;
  http.Get("/healthz", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok\n", "text/plain"); });
  http.Get("/readyz", [this](const httplib::Request&, httplib::Response& res) {
    if (draining_) {
      res.status = 503;
      res.set_content("not ready: shutting down\n", "text/plain");
    } else if (deps_.ready && !deps_.ready()) {
      res.status = 503;
      res.set_content("not ready: every worker is busy and the queue is full\n", "text/plain");
    } else {
      res.set_content("ready\n", "text/plain");
    }
  });
  http.Get("/v1/info", [this](const httplib::Request& req, httplib::Response& res) {
    absl::Status s;
    std::shared_ptr<CallRecord> call = deps_.life->Begin("GetServerInfo", OriginOf(req), &s);
    res.set_header("X-Request-Id", call->request_id);
    if (s.ok()) {
      v1::GetServerInfoResponse info;
      deps_.server_info(&info);
      std::string json;
      google::protobuf::util::JsonPrintOptions options;
      options.add_whitespace = true;
      if (google::protobuf::util::MessageToJsonString(info, &json, options).ok()) {
        res.set_content(json, "application/json");
      } else {
        s = absl::InternalError("the server information could not be written as JSON");
      }
    }
    deps_.life->End(*call, nullptr, s);
    if (!s.ok()) WriteError(s, call->request_id, res);
  });

  const auto context = [this](ErrorBody error_body) {
    return ServeContext{deps_, draining_, cancelled_, in_flight_, error_body};
  };
  const int64_t max_body = deps_.max_body_bytes;
  Post<v1::AnalyzeRequest, v1::AnalyzeResponse>(
      http, "/v1/analyze", "Analyze", context, max_body,
      [](const httplib::Request& req, const std::string& body, v1::AnalyzeRequest* r) {
        if (absl::Status s = AudioFileInto(body, r->mutable_audio()); !s.ok()) return s;
        r->set_kind(v1::SPECTROGRAM_KIND_LOG_MEL);
        if (absl::Status s = QueryInto(req, "analyze", r); !s.ok()) return s;
        r->set_tensor_format(v1::TENSOR_FORMAT_NPY);
        return absl::OkStatus();
      },
      &PrepareAnalyze,
      [](const v1::AnalyzeResponse& r, httplib::Response& out) {
        out.set_header("X-Audio-Duration-Seconds", absl::StrCat(r.audio_duration_seconds()));
        out.set_header("X-Spectrogram-Kind", v1::SpectrogramKind_Name(r.kind()));
        out.set_content(r.spectrogram().npy_data(), kNpyType);
        return absl::OkStatus();
      });
  Post<v1::InvertMelRequest, v1::InvertMelResponse>(
      http, "/v1/invert-mel", "InvertMel", context, max_body,
      [](const httplib::Request& req, const std::string& body, v1::InvertMelRequest* r) {
        if (absl::Status s = RequireBody(body, "a .npy mel spectrogram (n_mels, frames)"); !s.ok()) return s;
        r->mutable_mel()->set_npy_data(body);
        return QueryInto(req, "invert-mel", r);
      },
      &PrepareInvertMel,
      [](const v1::InvertMelResponse& r, httplib::Response& out) {
        WriteInversionHeaders(r.spectral_convergence_mel_db(), r.iterations_run(), "X-Spectral-Convergence-Mel-Db",
                              out);
        SetWarningHeaders(r.warnings(), out);
        WriteAudio(r.audio(), out);
        return absl::OkStatus();
      });
  Post<v1::InvertSpectrogramRequest, v1::InvertSpectrogramResponse>(
      http, "/v1/invert-spectrogram", "InvertSpectrogram", context, max_body,
      [](const httplib::Request& req, const std::string& body, v1::InvertSpectrogramRequest* r) {
        if (absl::Status s = RequireBody(body, "a .npy magnitude (n_fft/2+1, frames)"); !s.ok()) return s;
        r->mutable_magnitude()->set_npy_data(body);
        return QueryInto(req, "invert-spectrogram", r);
      },
      &PrepareInvertSpectrogram,
      [](const v1::InvertSpectrogramResponse& r, httplib::Response& out) {
        WriteInversionHeaders(r.spectral_convergence_db(), r.iterations_run(), "X-Spectral-Convergence-Db", out);
        WriteAudio(r.audio(), out);
        return absl::OkStatus();
      });
  Post<v1::ReorderRequest, v1::ReorderResponse>(
      http, "/v1/reorder", "Reorder", context, max_body,
      [](const httplib::Request& req, const std::string& body, v1::ReorderRequest* r) {
        if (absl::Status s = AudioFileInto(body, r->mutable_audio()); !s.ok()) return s;
        return QueryInto(req, "reorder", r);
      },
      &PrepareReorder, &RespondAudio<v1::ReorderResponse>);
  Post<v1::TransformRequest, v1::TransformResponse>(
      http, "/v1/transform", "Transform", context, max_body,
      [](const httplib::Request& req, const std::string& body, v1::TransformRequest* r) {
        if (absl::Status s = AudioFileInto(body, r->mutable_audio()); !s.ok()) return s;
        if (absl::Status s = BandMutesInto(req, r); !s.ok()) return s;
        return QueryInto(req, "transform", r);
      },
      &PrepareTransform, &RespondAudio<v1::TransformResponse>);
  Post<v1::RenderRequest, v1::RenderResponse>(
      http, "/v1/render", "Render", context, max_body,
      [](const httplib::Request& req, const std::string& body, v1::RenderRequest* r) {
        if (absl::Status s = RequireBody(body, "an audio file or a .npy spectrogram"); !s.ok()) return s;
        r->set_view(v1::RENDER_VIEW_MEL);  // the query may choose another
        if (absl::StartsWith(req.get_header_value("Content-Type"), kNpyType)) {
          r->mutable_spectrogram()->set_npy_data(body);
        } else {
          r->mutable_audio()->set_encoded_data(body);
        }
        return QueryInto(req, "render", r);
      },
      &PrepareRender,
      [](const v1::RenderResponse& r, httplib::Response& out) {
        out.set_content(r.png_data(), "image/png");
        return absl::OkStatus();
      });
  http.Post("/v1/vocode", [context](const httplib::Request& req, httplib::Response& res,
                                    const httplib::ContentReader& reader) {
    std::string body;
    const ServeContext ctx = context(&ErrorJson);
    if (!ReadBody(req, reader, ctx.deps.max_body_bytes, &body)) return WriteTooLarge(ctx.deps.max_body_bytes, res);
    ServeVocode(ctx, req, body, res);
  });
  // KServe v2 / Triton inference protocol (kserve.h).
  auto ready = [this] { return !draining_ && (!deps_.ready || deps_.ready()); };
  http.Get("/v2", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(kserve::ServerMetadataJson(), "application/json");
  });
  http.Get("/v2/health/live", [](const httplib::Request&, httplib::Response&) {});
  http.Get("/v2/health/ready", [ready](const httplib::Request&, httplib::Response& res) {
    if (!ready()) res.status = 503;
  });
  http.Get(R"(/v2/models/([^/]+)/ready)", [ready](const httplib::Request& req, httplib::Response& res) {
    if (absl::StatusOr<kserve::Model> model = kserve::FindModel(req.matches[1]); !model.ok()) {
      WriteError(model.status(), "", res, &KserveErrorBody);
    } else if (!ready()) {
      res.status = 503;
    }
  });
  http.Get(R"(/v2/models/([^/]+))", [this](const httplib::Request& req, httplib::Response& res) {
    absl::Status s;
    std::shared_ptr<CallRecord> call = deps_.life->Begin("ModelMetadata", OriginOf(req), &s);
    res.set_header("X-Request-Id", call->request_id);
    absl::StatusOr<std::string> json = absl::InternalError("unset");
    if (s.ok()) {
      absl::StatusOr<kserve::Model> model = kserve::FindModel(req.matches[1]);
      json = model.ok() ? kserve::ModelMetadataJson(*model) : model.status();
      s = json.status();
    }
    deps_.life->End(*call, nullptr, s);
    if (s.ok()) {
      res.set_content(*json, "application/json");
    } else {
      WriteError(s, call->request_id, res, &KserveErrorBody);
    }
  });
  http.Post(R"(/v2/models/([^/]+)/infer)", [context](const httplib::Request& req, httplib::Response& res,
                                                      const httplib::ContentReader& reader) {
    std::string body;
    const ServeContext ctx = context(&KserveErrorBody);
    if (!ReadBody(req, reader, ctx.deps.max_body_bytes, &body)) return WriteTooLarge(ctx.deps.max_body_bytes, res);
    absl::StatusOr<kserve::Model> model = kserve::FindModel(req.matches[1]);
    if (!model.ok()) return WriteError(model.status(), "", res, &KserveErrorBody);
    if (model->kind == kserve::ModelKind::kVocoder) {
      Infer(ctx, "InvertMel", req, res, *model, body, &kserve::InferRequest::invert_mel, &PrepareInvertMel);
    } else {
      Infer(ctx, "Analyze", req, res, *model, body, &kserve::InferRequest::analyze, &PrepareAnalyze);
    }
  });

  http.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;  // a route already wrote its answer
    const absl::Status s =
        res.status == 413 ? absl::InvalidArgumentError("the request body is larger than the server's --max-message-mb")
        : res.status == 404 ? absl::NotFoundError("no such route; see GET /v1/info and the README's HTTP API section")
                            : absl::InvalidArgumentError(absl::StrCat("HTTP ", res.status));
    const int code = res.status;
    WriteError(s, "", res);
    res.status = code;
  });
}

}  // namespace specinv::server
