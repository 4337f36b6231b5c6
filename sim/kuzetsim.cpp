// kuzetsim: a simulated SoapySDR receiver compiled into kuzet (cc crate) so the live path can be
// exercised with no radio. It is NOT a loadable plugin: SoapySDRUtil never sees it. kuzet calls
// kuzet_sim_register() before its first enumerate/make; only then does "driver=kuzetsim" resolve.
//
// Device args (SoapySDR splits on ',', so lists use '/'):
//   tones=F:DBFS[/F:DBFS...]  CW tones at ABSOLUTE RF Hz, power in dBFS (amplitude 10^(dBFS/20)) at
//                             gain 30; scaled by 10^((gain-30)/20). Visible iff |F - LO| < rate/2,
//                             where LO = fc * (1 + ppm*1e-6) (frequency correction shifts the LO).
//   noise=DBFS                total complex white Gaussian noise power (default -60), gain-independent
//   realtime=true|false       pace samples at the sample rate (default true)
//   buffer_ms=N               realtime only: a reader more than N ms behind gets SOAPY_SDR_OVERFLOW and
//                             the backlog is dropped, like a real device's USB buffers (default 500, 0=off)
//   overflow_every=N          every N-th data-delivering readStream returns SOAPY_SDR_OVERFLOW and the
//                             stream time jumps by one MTU (16384 samples) of lost data (0 = off)
//   unplug_after=S, replug_after=R   hot-plug emulation, see below
//   seed=N                    noise PRNG seed (default 0): realtime=false output is reproducible
//   pulses=F:DBFS:WIDTH_S:PERIOD_S[:PHASE_S][/...]  pulsed carriers at ABSOLUTE RF Hz: on for WIDTH_S
//                             every PERIOD_S of stream time, the first pulse at PHASE_S (default 0)
//   wides=F:BW:DBFS[/...]     wideband emitters centred at ABSOLUTE RF Hz: a linear chirp across BW
//                             every 1 ms (kWideSweepS), flat in any spectrum averaged over longer;
//                             DBFS is its total power. Only the part inside +-rate/2 is seen.
//   scene=border              adds a preset scene across 0.1-6 GHz (kBorderScene, below) to the above
//   filter=true|false         model the tuner's anti-alias filter (default false: a flat band): noise
//                             and emitters shaped by a 31-tap low-pass, flat (+-0.05 dB) to +-0.37*rate,
//                             -6 dB at +-0.42*rate, beyond -40 dB past +-0.47*rate
//   retune_stale=N            samples still taken at the OLD frequency that the reader gets after a
//                             retune (default 32768: two MTUs in flight, as in a USB driver's queue)
//   retune_ms=L               retune latency (default 1): realtime setFrequency blocks L ms, and the
//                             L ms of samples that follow the stale ones are old-frequency too
// Retunes: setFrequency while a stream runs takes effect `retune_stale` samples after the next
// sample the reader would get (in realtime, after every sample already due at the call), plus
// retune_ms of samples: like a real driver's buffers, the reader first gets old-frequency samples.
// A stream set up or activated after a retune starts at the new frequency. One retune is pending per
// stream at a time (a second setFrequency before the first took effect replaces its frequency).
// Invalid values throw std::runtime_error("kuzetsim: invalid <arg>=...") from make(); unknown keys
// are logged as warnings and ignored. Defaults: 100 MHz, 2.048 MS/s, gain 30 dB (manual), bw 0.
//
// Streams: CF32 (clipped to +-1) or CS16 (native, full scale 32767, saturated); MTU 16384. With
// realtime=true readStream waits until min(numElems, MTU) samples are due or timeoutUs expires,
// then returns every sample due (possibly fewer, never more than numElems); SOAPY_SDR_TIMEOUT only
// if none is due. timeNs = samples since the first activation (lost ones included) / rate, flag
// SOAPY_SDR_HAS_TIME. Reading a stream that is not activated returns SOAPY_SDR_STREAM_ERROR.
//
// Unplug / replug semantics (state is process-wide, keyed by serial):
//  * When a stream has delivered S seconds of STREAM time (samples/rate, including samples lost to
//    overflows), the read reaching S returns exactly the samples up to S; the next read returns
//    SOAPY_SDR_STREAM_ERROR and the serial is "unplugged" from that wall-clock instant.
//  * While unplugged: readStream/activateStream on any stream of that serial return
//    SOAPY_SDR_STREAM_ERROR, setupStream throws, find() does not list the serial, and make() throws
//    "kuzetsim: kuzetsim-0 is unplugged". Settings getters/setters keep working (store only).
//  * R seconds of WALL time after the unplug the serial is back: find() lists it, make() and
//    setupStream() work. Streams that existed at the unplug stay dead for good (like a USB handle
//    whose transfers failed): recover with closeStream+setupStream (the same Device is fine) or
//    unmake+make. Without replug_after the device never comes back.
//  * One-shot: a serial unplugs at most once per process, so the re-made device keeps streaming.
//  * Any serial "kuzetsim-<x>" can be made (find lists only kuzetsim-0 unless filtered by serial):
//    use distinct serials for independent simulated units in one process (e.g. parallel tests).
//  Note: SoapySDR::Device::make caches devices by args; identical args share one Device object.
#include <SoapySDR/Device.hpp>
#include <SoapySDR/Formats.hpp>
#include <SoapySDR/Logger.hpp>
#include <SoapySDR/Registry.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

namespace {
using Clock = std::chrono::steady_clock;
constexpr size_t kMtu = 16384;
constexpr size_t kChunk = 1024; // synthesis block: float rotator drift over 1024 steps is ~1e-5
constexpr double kTwoPi = 6.283185307179586;

// ---- process-wide hot-plug state ---------------------------------------------------------
struct Plug { uint64_t epoch = 0; bool fired = false, down = false, forever = false; Clock::time_point back; };
std::mutex &plug_mu() { static std::mutex m; return m; }
std::map<std::string, Plug> &plugs() { static std::map<std::string, Plug> m; return m; }
Plug plug_state(const std::string &serial) { // caller holds plug_mu; lazily replugs
    Plug &p = plugs()[serial];
    if (p.down && !p.forever && Clock::now() >= p.back) p.down = false;
    return p;
}
bool is_down(const std::string &serial) { std::lock_guard<std::mutex> l(plug_mu()); return plug_state(serial).down; }

// ---- noise: i.i.d. Gaussian via a 16-bit index into a quantile table ----------------------
// One PRNG draw and two loads per sample, no libm call; unlike a looping table of noise samples it
// has no periodicity for a long-averaged PSD to reveal. Entry i = half-normal quantile at (i+0.5)/32768 (tails to
// 4.3 sigma); the index's 16th bit is the sign. Renormalised to exactly unit variance.
const float *gauss_table() {
    static const std::array<float, 32768> tab = [] {
        std::array<float, 32768> t{};
        double x = 0, ss = 0;
        for (size_t i = 0; i < t.size(); i++) {
            const double q = (t.size() - i - 0.5) / t.size(); // solve erfc(x/sqrt2) = q (Newton,
            for (int it = 0; it < 50; it++) {                  // monotone from the previous root)
                const double dx = (std::erfc(x / std::sqrt(2.0)) - q) / (std::sqrt(2 / M_PI) * std::exp(-x * x / 2));
                x += dx;
                if (std::fabs(dx) < 1e-13) break;
            }
            t[i] = float(x);
            ss += x * x;
        }
        const double k = 1.0 / std::sqrt(ss / t.size());
        for (auto &v : t) v = float(v * k);
        return t;
    }();
    return tab.data();
}
inline uint64_t wyrand(uint64_t &s) {
    s += 0xa0761d6478bd642fULL;
    const __uint128_t t = (__uint128_t)s * (s ^ 0xe7037ed1a0b428dbULL);
    return uint64_t(t >> 64) ^ uint64_t(t);
}
inline float gauss16(const float *tab, uint32_t r) { // sign by bit flip: a branch on random bits mispredicts
    uint32_t b;
    std::memcpy(&b, &tab[r & 0x7fff], 4);
    b ^= (r & 0x8000) << 16;
    float v;
    std::memcpy(&v, &b, 4);
    return v;
}

// ---- argument parsing -------------------------------------------------------------------
[[noreturn]] void bad(const std::string &k, const std::string &v, const char *why) {
    throw std::runtime_error("kuzetsim: invalid " + k + "=" + v + " (" + why + ")");
}
double num(const std::string &k, const std::string &v, const std::string &s) {
    char *end = nullptr;
    const double x = std::strtod(s.c_str(), &end);
    if (s.empty() || *end != '\0' || !std::isfinite(x)) bad(k, v, "expected a finite number");
    return x;
}
uint64_t count(const std::string &k, const std::string &v) {
    const double x = num(k, v, v);
    if (x < 0 || x != std::floor(x) || x > 1e18) bad(k, v, "expected a non-negative integer");
    return uint64_t(x);
}

struct Tone { double freq, amp; };
struct Pulse { double freq, amp, width_s, period_s, phase_s; };
struct Wide { double freq, bw, amp; };
constexpr double kWideSweepS = 1e-3;

// The preset `scene=border`: what a border post might hear, across the built-in band plan.
// {kind, freq, a, b, c, dBFS}: tone (a..c unused), pulse (width a, period b, phase c), wide (bw a).
struct Preset { char kind; double freq, a, b, c, dbfs; };
constexpr Preset kBorderScene[] = {
    {'t', 151.0125e6, 0, 0, 0, -45},          // VHF land mobile voice carrier
    {'p', 433.92e6, 0.5e-3, 0.150, 0.031, -40}, // LPD433 remote: 0.5 ms every 150 ms
    {'t', 446.05625e6, 0, 0, 0, -50},         // PMR446 channel 1 (the plan watches PMR446)
    {'p', 868.3e6, 2e-3, 1.0, 0.4, -45},      // SRD 868 telemetry burst every second
    {'w', 2437e6, 16e6, 0, 0, -45},           // Wi-Fi channel 6
    {'w', 5800e6, 8e6, 0, 0, -40},            // analogue FPV video
};

struct Config {
    std::vector<Tone> tones;
    std::vector<Pulse> pulses;
    std::vector<Wide> wides;
    float noise_sigma = float(std::sqrt(1e-6 / 2)); // per I/Q component; -60 dBFS total
    bool realtime = true, filter = false;
    uint64_t overflow_every = 0, seed = 0, retune_stale = 2 * kMtu;
    double buffer_s = 0.5, unplug_after = -1, replug_after = -1; // <0: never
    double retune_s = 1e-3;
};

// Splits "a:b:c/d:e:f" into items of numbers, each with min..max fields.
std::vector<std::vector<double>> items(const std::string &k, const std::string &v, size_t min, size_t max, const char *usage) {
    std::vector<std::vector<double>> out;
    size_t pos = 0;
    while (pos < v.size()) {
        size_t end = v.find('/', pos);
        if (end == std::string::npos) end = v.size();
        const std::string item = v.substr(pos, end - pos);
        std::vector<double> f;
        size_t a = 0;
        while (true) {
            const size_t colon = item.find(':', a);
            f.push_back(num(k, v, item.substr(a, colon == std::string::npos ? std::string::npos : colon - a)));
            if (colon == std::string::npos) break;
            a = colon + 1;
        }
        if (f.size() < min || f.size() > max) bad(k, v, usage);
        if (f[0] <= 0) bad(k, v, "frequency must be > 0 Hz");
        out.push_back(f);
        pos = end + 1;
    }
    return out;
}

Config parse(const SoapySDR::Kwargs &args) {
    Config c;
    auto amp = [](double dbfs) { return std::pow(10.0, dbfs / 20); };
    for (const auto &kv : args) {
        const std::string &k = kv.first, &v = kv.second;
        if (k == "tones") {
            for (const auto &f : items(k, v, 2, 2, "each tone is FREQ_HZ:DBFS, separated by '/'")) c.tones.push_back({f[0], amp(f[1])});
        } else if (k == "pulses") {
            for (const auto &f : items(k, v, 4, 5, "each pulse is FREQ_HZ:DBFS:WIDTH_S:PERIOD_S[:PHASE_S], separated by '/'")) {
                if (!(f[2] > 0 && f[3] > f[2])) bad(k, v, "a pulse needs 0 < WIDTH_S < PERIOD_S");
                c.pulses.push_back({f[0], amp(f[1]), f[2], f[3], f.size() > 4 ? f[4] : 0.0});
            }
        } else if (k == "wides") {
            for (const auto &f : items(k, v, 3, 3, "each wide emitter is FREQ_HZ:BW_HZ:DBFS, separated by '/'")) {
                if (!(f[1] > 0)) bad(k, v, "BW_HZ must be > 0");
                c.wides.push_back({f[0], f[1], amp(f[2])});
            }
        } else if (k == "scene") {
            if (v != "border") bad(k, v, "the only preset scene is `border`");
            for (const auto &e : kBorderScene) {
                if (e.kind == 't') c.tones.push_back({e.freq, amp(e.dbfs)});
                else if (e.kind == 'p') c.pulses.push_back({e.freq, amp(e.dbfs), e.a, e.b, e.c});
                else c.wides.push_back({e.freq, e.a, amp(e.dbfs)});
            }
        } else if (k == "noise") c.noise_sigma = float(std::sqrt(std::pow(10.0, num(k, v, v) / 10) / 2));
        else if (k == "realtime" || k == "filter") {
            bool b;
            if (v == "true" || v == "1" || v == "yes") b = true;
            else if (v == "false" || v == "0" || v == "no") b = false;
            else bad(k, v, "expected true or false");
            (k == "realtime" ? c.realtime : c.filter) = b;
        } else if (k == "overflow_every") c.overflow_every = count(k, v);
        else if (k == "seed") c.seed = count(k, v);
        else if (k == "buffer_ms") c.buffer_s = count(k, v) / 1e3;
        else if (k == "retune_stale") c.retune_stale = count(k, v);
        else if (k == "retune_ms") {
            const double ms = num(k, v, v);
            if (!(ms >= 0 && ms <= 1e4)) bad(k, v, "expected milliseconds in 0..10000");
            c.retune_s = ms / 1e3;
        } else if (k == "unplug_after" || k == "replug_after") {
            const double s = num(k, v, v);
            if (s < 0) bad(k, v, "expected seconds >= 0");
            (k == "unplug_after" ? c.unplug_after : c.replug_after) = s;
        } else if (k != "driver" && k != "label" && k != "serial")
            SoapySDR::logf(SOAPY_SDR_WARNING, "kuzetsim: ignoring unknown device arg '%s'", k.c_str());
    }
    if (c.replug_after >= 0 && c.unplug_after < 0) bad("replug_after", args.at("replug_after"), "needs unplug_after");
    return c;
}

// ---- the tuner's anti-alias filter (filter=true) ------------------------------------------
// A Kaiser-windowed sinc (31 taps, cutoff 0.42*rate, beta 5), unit gain at DC: a flat passband
// and a steep roll-off at the band edges, which is why a sweeper must crop them.
constexpr int kTaps = 31;
constexpr int kHmagN = 4096; // |H| tabulated over normalised frequency [-0.5, 0.5)
struct Fir { float h[kTaps]; float hmag[kHmagN]; };
const Fir &fir() {
    static const Fir f = [] {
        Fir r{};
        auto i0 = [](double x) { // modified Bessel function of order 0 (power series)
            double sum = 1, term = 1;
            for (int k = 1; k < 50; k++) { term *= (x / (2 * k)) * (x / (2 * k)); sum += term; }
            return sum;
        };
        const double fc = 0.42, beta = 5.0, mid = (kTaps - 1) / 2.0;
        double h[kTaps], total = 0;
        for (int n = 0; n < kTaps; n++) {
            const double x = n - mid, t = x / mid;
            const double sinc = x == 0 ? 2 * fc : std::sin(kTwoPi * fc * x) / (M_PI * x);
            h[n] = sinc * i0(beta * std::sqrt(std::max(0.0, 1 - t * t))) / i0(beta);
            total += h[n];
        }
        for (int n = 0; n < kTaps; n++) r.h[n] = float(h[n] / total);
        for (int i = 0; i < kHmagN; i++) {
            const double f = double(i) / kHmagN - 0.5;
            double re = 0, im = 0;
            for (int n = 0; n < kTaps; n++) { re += r.h[n] * std::cos(kTwoPi * f * n); im -= r.h[n] * std::sin(kTwoPi * f * n); }
            r.hmag[i] = float(std::sqrt(re * re + im * im));
        }
        return r;
    }();
    return f;
}
// |H| at baseband offset `off` (Hz) at `rate`: 0 outside +-rate/2 (the ADC never sees it).
float hmag(double off, double rate, bool filter) {
    const double f = off / rate;
    if (!(std::fabs(f) < 0.5)) return 0;
    if (!filter) return 1;
    const int i = std::min(kHmagN - 1, std::max(0, int((f + 0.5) * kHmagN)));
    return fir().hmag[i];
}

struct SimStream {
    bool cs16, active = false, dead = false;
    uint64_t epoch, rng, reads = 0;
    std::vector<double> phase;   // per-tone phase (double: no drift, survives retunes and time jumps)
    std::vector<double> pphase;  // per-pulse carrier phase
    std::vector<double> wphase, wpos; // per wide emitter: phase, and samples into its current chirp
    float fir_i[kTaps - 1] = {}, fir_q[kTaps - 1] = {}; // filter=true: the noise the filter still holds
    uint64_t gen = 0;            // the device's retune generation this stream has taken in
    double lo = 0;               // LO of the next sample delivered
    struct Switch { int64_t at; double lo; };
    std::deque<Switch> switches; // retunes not yet in effect: from sample `at` (same index as `index`)
    double rate = 0;             // rate in force since `anchor`
    int64_t index = 0;           // samples (incl. lost ones) since `anchor`
    long long base_ns = 0;       // stream time at `anchor`
    Clock::time_point anchor;    // realtime: sample `index` is due at anchor + index/rate
    long long time_ns() const { return base_ns + std::llround(index * 1e9 / rate); }
    void rebase(double new_rate) {
        if (rate > 0) base_ns = time_ns();
        index = 0; rate = new_rate; anchor = Clock::now();
        // A rate change restarts the index: a pending retune takes effect at once.
        if (!switches.empty()) { lo = switches.back().lo; switches.clear(); }
    }
};

class KuzetSim final : public SoapySDR::Device {
public:
    KuzetSim(std::string serial, Config cfg) : serial_(std::move(serial)), cfg_(std::move(cfg)) { gauss_table(); }

    std::string getDriverKey() const override { return "kuzetsim"; }
    std::string getHardwareKey() const override { return "kuzetsim"; }
    SoapySDR::Kwargs getHardwareInfo() const override { return {{"serial", serial_}, {"origin", "kuzet/sim/kuzetsim.cpp"}}; }
    size_t getNumChannels(const int dir) const override { return dir == SOAPY_SDR_RX ? 1 : 0; }

    // ---- streams ----
    std::vector<std::string> getStreamFormats(const int, const size_t) const override { return {SOAPY_SDR_CF32, SOAPY_SDR_CS16}; }
    std::string getNativeStreamFormat(const int, const size_t, double &fs) const override { fs = 32767; return SOAPY_SDR_CS16; }
    SoapySDR::Stream *setupStream(const int dir, const std::string &fmt, const std::vector<size_t> &chans, const SoapySDR::Kwargs &) override {
        if (dir != SOAPY_SDR_RX) throw std::runtime_error("kuzetsim: RX only");
        if (fmt != SOAPY_SDR_CF32 && fmt != SOAPY_SDR_CS16) throw std::runtime_error("kuzetsim: unsupported stream format " + fmt + " (CF32 or CS16)");
        if (chans.size() > 1 || (chans.size() == 1 && chans[0] != 0)) throw std::runtime_error("kuzetsim: only channel 0");
        auto *s = new SimStream;
        {
            std::lock_guard<std::mutex> l(plug_mu());
            const Plug p = plug_state(serial_);
            if (p.down) { delete s; throw std::runtime_error("kuzetsim: " + serial_ + " is unplugged"); }
            s->epoch = p.epoch;
        }
        s->cs16 = fmt == SOAPY_SDR_CS16;
        s->rng = cfg_.seed * 0x9e3779b97f4a7c15ULL + 1;
        s->phase.assign(cfg_.tones.size(), 0.0);
        s->pphase.assign(cfg_.pulses.size(), 0.0);
        s->wphase.assign(cfg_.wides.size(), 0.0);
        s->wpos.assign(cfg_.wides.size(), 0.0);
        return reinterpret_cast<SoapySDR::Stream *>(s);
    }
    void closeStream(SoapySDR::Stream *st) override { delete reinterpret_cast<SimStream *>(st); }
    size_t getStreamMTU(SoapySDR::Stream *) const override { return kMtu; }
    int activateStream(SoapySDR::Stream *st, const int, const long long, const size_t) override {
        auto *s = reinterpret_cast<SimStream *>(st);
        if (lost(*s)) return SOAPY_SDR_STREAM_ERROR;
        s->active = true;
        s->rebase(rate());
        // A stream that starts after a retune starts at the new frequency: nothing is stale.
        std::lock_guard<std::mutex> l(mu_);
        s->lo = fc_ * (1 + ppm_ * 1e-6);
        s->gen = gen_;
        s->switches.clear();
        return 0;
    }
    int deactivateStream(SoapySDR::Stream *st, const int, const long long) override { reinterpret_cast<SimStream *>(st)->active = false; return 0; }

    int readStream(SoapySDR::Stream *st, void *const *buffs, const size_t numElems, int &flags, long long &timeNs, const long timeoutUs) override {
        auto *s = reinterpret_cast<SimStream *>(st);
        flags = 0;
        if (!s->active || lost(*s)) return SOAPY_SDR_STREAM_ERROR;
        // Snapshot the tuning once per call (settings may change from another thread).
        double rate, lo, gain_lin;
        uint64_t gen;
        Clock::time_point retuned_at;
        {
            std::lock_guard<std::mutex> l(mu_);
            rate = rate_; lo = fc_ * (1 + ppm_ * 1e-6); gain_lin = std::pow(10.0, ((agc_ ? 30 : gain_) - 30) / 20);
            gen = gen_; retuned_at = retuned_at_;
        }
        if (rate != s->rate) s->rebase(rate);
        if (gen != s->gen) { // a retune since the last read: it reaches the reader after the stale samples
            int64_t from = s->index;
            if (cfg_.realtime) // every sample already due was taken before the retune
                from = std::max<int64_t>(from, int64_t(std::chrono::duration<double>(retuned_at - s->anchor).count() * rate));
            s->switches.clear();
            s->switches.push_back({from + int64_t(cfg_.retune_stale) + std::llround(cfg_.retune_s * rate), lo});
            s->gen = gen;
        }
        size_t left = SIZE_MAX; // samples until the simulated unplug
        if (cfg_.unplug_after >= 0 && !fired()) {
            const double end_idx = std::ceil((cfg_.unplug_after * 1e9 - s->base_ns) * rate / 1e9);
            left = size_t(std::max<double>(0, end_idx - s->index));
            if (left == 0) { unplug(); s->dead = true; return SOAPY_SDR_STREAM_ERROR; }
        }
        const size_t want = std::min({numElems, kMtu, left});
        size_t n = std::min({numElems, left, size_t(INT_MAX)}); // the return value is an int
        if (cfg_.realtime) {
            auto avail = [&] { return int64_t(std::chrono::duration<double>(Clock::now() - s->anchor).count() * rate) - s->index; };
            if (cfg_.buffer_s > 0 && avail() > cfg_.buffer_s * rate) { // reader too slow: drop backlog
                skip(*s, avail(), rate);
                timeNs = s->time_ns(); flags = SOAPY_SDR_HAS_TIME;
                return SOAPY_SDR_OVERFLOW;
            }
            // Wait until `want` samples are due, or the timeout; then hand out whatever is due.
            const auto due = s->anchor + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>((s->index + want) / rate));
            std::this_thread::sleep_until(std::min(due, Clock::now() + std::chrono::microseconds(std::max(0L, timeoutUs))));
            const int64_t a = avail();
            if (a <= 0) return SOAPY_SDR_TIMEOUT;
            n = std::min<size_t>(n, a);
        }
        if (cfg_.overflow_every && ++s->reads % cfg_.overflow_every == 0) {
            skip(*s, kMtu, rate);
            timeNs = s->time_ns(); flags = SOAPY_SDR_HAS_TIME;
            return SOAPY_SDR_OVERFLOW;
        }
        timeNs = s->time_ns(); flags = SOAPY_SDR_HAS_TIME;
        produce(*s, buffs[0], n, rate, gain_lin);
        return int(n);
    }

    // ---- antenna, frequency, rate, bandwidth, gain ----
    std::vector<std::string> listAntennas(const int, const size_t) const override { return {"RX"}; }
    void setAntenna(const int, const size_t, const std::string &name) override { if (name != "RX") throw std::runtime_error("kuzetsim: no antenna " + name); }
    std::string getAntenna(const int, const size_t) const override { return "RX"; }

    std::vector<std::string> listFrequencies(const int, const size_t) const override { return {"RF"}; }
    SoapySDR::RangeList getFrequencyRange(const int, const size_t) const override { return {SoapySDR::Range(24e6, 6e9)}; }
    SoapySDR::RangeList getFrequencyRange(const int d, const size_t c, const std::string &) const override { return getFrequencyRange(d, c); }
    void setFrequency(const int, const size_t, const double f, const SoapySDR::Kwargs &) override {
        if (!(f >= 24e6 && f <= 6e9)) throw std::runtime_error("kuzetsim: frequency " + std::to_string(f) + " Hz outside 24 MHz - 6 GHz");
        {
            std::lock_guard<std::mutex> l(mu_);
            fc_ = f; gen_++; retuned_at_ = Clock::now();
        }
        // A real tuner's PLL takes time to lock; the caller waits for it.
        if (cfg_.realtime && cfg_.retune_s > 0) std::this_thread::sleep_for(std::chrono::duration<double>(cfg_.retune_s));
    }
    void setFrequency(const int d, const size_t c, const std::string &name, const double f, const SoapySDR::Kwargs &a) override {
        if (name != "RF") throw std::runtime_error("kuzetsim: no frequency component " + name);
        setFrequency(d, c, f, a);
    }
    double getFrequency(const int, const size_t) const override { std::lock_guard<std::mutex> l(mu_); return fc_; }
    double getFrequency(const int d, const size_t c, const std::string &) const override { return getFrequency(d, c); }
    bool hasFrequencyCorrection(const int, const size_t) const override { return true; }
    void setFrequencyCorrection(const int, const size_t, const double ppm) override {
        std::lock_guard<std::mutex> l(mu_);
        ppm_ = ppm; gen_++; retuned_at_ = Clock::now();
    }
    double getFrequencyCorrection(const int, const size_t) const override { std::lock_guard<std::mutex> l(mu_); return ppm_; }

    std::vector<double> listSampleRates(const int, const size_t) const override { return {0.25e6, 1.024e6, 2.048e6, 2.4e6, 3.2e6, 8e6, 10e6, 20e6, 40e6, 56e6, 61.44e6}; }
    SoapySDR::RangeList getSampleRateRange(const int, const size_t) const override { return {SoapySDR::Range(0.1e6, 62e6)}; }
    void setSampleRate(const int, const size_t, const double r) override {
        if (!(r >= 0.1e6 && r <= 62e6)) throw std::runtime_error("kuzetsim: sample rate " + std::to_string(r) + " outside 0.1 - 62 MS/s");
        std::lock_guard<std::mutex> l(mu_); rate_ = r;
    }
    double getSampleRate(const int, const size_t) const override { return rate(); }

    std::vector<double> listBandwidths(const int, const size_t) const override { return {0.2e6, 1.5e6, 5e6, 10e6, 20e6, 56e6}; }
    void setBandwidth(const int, const size_t, const double bw) override {
        if (!(bw >= 0)) throw std::runtime_error("kuzetsim: invalid bandwidth");
        std::lock_guard<std::mutex> l(mu_); bw_ = bw;
    }
    double getBandwidth(const int, const size_t) const override { std::lock_guard<std::mutex> l(mu_); return bw_; }

    std::vector<std::string> listGains(const int, const size_t) const override { return {"LNA"}; }
    bool hasGainMode(const int, const size_t) const override { return true; }
    void setGainMode(const int, const size_t, const bool agc) override { std::lock_guard<std::mutex> l(mu_); agc_ = agc; }
    bool getGainMode(const int, const size_t) const override { std::lock_guard<std::mutex> l(mu_); return agc_; }
    SoapySDR::Range getGainRange(const int, const size_t) const override { return SoapySDR::Range(0, 50); }
    SoapySDR::Range getGainRange(const int d, const size_t c, const std::string &) const override { return getGainRange(d, c); }
    void setGain(const int, const size_t, const double g) override {
        if (!(g >= 0 && g <= 50)) throw std::runtime_error("kuzetsim: gain " + std::to_string(g) + " dB outside 0 - 50");
        std::lock_guard<std::mutex> l(mu_); gain_ = g;
    }
    void setGain(const int d, const size_t c, const std::string &name, const double g) override {
        if (name != "LNA") throw std::runtime_error("kuzetsim: no gain element " + name);
        setGain(d, c, g);
    }
    double getGain(const int, const size_t) const override { std::lock_guard<std::mutex> l(mu_); return gain_; }
    double getGain(const int d, const size_t c, const std::string &) const override { return getGain(d, c); }

private:
    double rate() const { std::lock_guard<std::mutex> l(mu_); return rate_; }
    bool fired() const { std::lock_guard<std::mutex> l(plug_mu()); return plugs()[serial_].fired; }
    void unplug() {
        std::lock_guard<std::mutex> l(plug_mu());
        Plug &p = plugs()[serial_];
        p.epoch++; p.fired = p.down = true;
        p.forever = cfg_.replug_after < 0;
        if (!p.forever) p.back = Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(cfg_.replug_after));
        SoapySDR::logf(SOAPY_SDR_WARNING, "kuzetsim: %s unplugged (simulated)", serial_.c_str());
    }
    // A stream is lost once the device was unplugged after its setup, even if it is back now.
    bool lost(SimStream &s) const {
        if (!s.dead) { std::lock_guard<std::mutex> l(plug_mu()); const Plug p = plug_state(serial_); s.dead = p.down || p.epoch != s.epoch; }
        return s.dead;
    }
    // Lost samples still take stream time; advance the phases so the gap is seamless.
    void skip(SimStream &s, int64_t n, double rate) const { walk(s, nullptr, size_t(n), rate, 0); }

    // Delivers `n` samples to `out`, each with the LO in effect for it (a retune reaches the
    // reader part-way through a read).
    void produce(SimStream &s, void *out, size_t n, double rate, double gain_lin) const { walk(s, out, n, rate, gain_lin); }

    // Goes through `n` samples segment by segment between LO switches: synthesises them into
    // `out`, or (out == nullptr) only advances the phases.
    void walk(SimStream &s, void *out, size_t n, double rate, double gain_lin) const {
        size_t done = 0;
        while (done < n) {
            size_t seg = n - done;
            if (!s.switches.empty()) seg = size_t(std::clamp<int64_t>(s.switches.front().at - s.index, 0, int64_t(seg)));
            if (seg > 0) {
                if (out) {
                    void *o = s.cs16 ? static_cast<void *>(static_cast<int16_t *>(out) + 2 * done) : static_cast<void *>(static_cast<float *>(out) + 2 * done);
                    synth(s, o, seg, s.lo, rate, gain_lin);
                } else {
                    advance(s, seg, s.lo, rate);
                }
                s.index += int64_t(seg);
                done += seg;
            }
            if (!s.switches.empty() && s.index >= s.switches.front().at) { s.lo = s.switches.front().lo; s.switches.pop_front(); }
        }
    }

    // Advances every emitter's phase over `n` samples at `lo` without producing them.
    void advance(SimStream &s, size_t n, double lo, double rate) const {
        for (size_t t = 0; t < cfg_.tones.size(); t++)
            s.phase[t] = std::remainder(s.phase[t] + kTwoPi * (cfg_.tones[t].freq - lo) / rate * double(n), kTwoPi);
        for (size_t t = 0; t < cfg_.pulses.size(); t++)
            s.pphase[t] = std::remainder(s.pphase[t] + kTwoPi * (cfg_.pulses[t].freq - lo) / rate * double(n), kTwoPi);
        for (size_t t = 0; t < cfg_.wides.size(); t++) wide(s, t, nullptr, n, lo, rate, 0);
    }

    // Adds a tone of amplitude `a` stepping by `w` rad/sample to `iq` (m samples), from `phase`.
    static void add_tone(float *iq, size_t m, double phase, double w, double a) {
        // Four interleaved rotators stepping by w*4: independent dependency chains
        // vectorise. Plain float math: std::complex<float>* would call __mulsc3.
        float pr[4], pi[4];
        for (int k = 0; k < 4; k++) { pr[k] = float(a * std::cos(phase + k * w)); pi[k] = float(a * std::sin(phase + k * w)); }
        const float cr = float(std::cos(4 * w)), ci = float(std::sin(4 * w));
        size_t i = 0;
        for (; i + 4 <= m; i += 4)
            for (int k = 0; k < 4; k++) {
                iq[2 * (i + k)] += pr[k]; iq[2 * (i + k) + 1] += pi[k];
                const float r = pr[k] * cr - pi[k] * ci; pi[k] = pr[k] * ci + pi[k] * cr; pr[k] = r;
            }
        for (int k = 0; i < m; i++, k++) { iq[2 * i] += pr[k]; iq[2 * i + 1] += pi[k]; }
    }

    // Wide emitter `t`: a chirp across its band, restarting every kWideSweepS; adds m samples to
    // `iq` (or only advances it when iq == nullptr), each scaled by the filter at its frequency.
    void wide(SimStream &s, size_t t, float *iq, size_t m, double lo, double rate, double gain_lin) const {
        const Wide &e = cfg_.wides[t];
        const double ns = kWideSweepS * rate;  // samples per chirp
        const double slope = e.bw / ns;        // Hz per sample
        const double a = e.amp * gain_lin;
        size_t i = 0;
        while (i < m) {
            const size_t len = std::min(m - i, size_t(std::ceil(ns - s.wpos[t])));
            const double f0 = e.freq - lo - e.bw / 2 + slope * s.wpos[t];
            if (iq && std::fabs(e.freq - lo) < rate / 2 + e.bw / 2) {
                float zr = float(a * std::cos(s.wphase[t])), zi = float(a * std::sin(s.wphase[t]));
                float wr = float(std::cos(kTwoPi * f0 / rate)), wi = float(std::sin(kTwoPi * f0 / rate));
                const float rr = float(std::cos(kTwoPi * slope / rate)), ri = float(std::sin(kTwoPi * slope / rate));
                for (size_t k = 0; k < len; k++) {
                    const float g = hmag(f0 + slope * double(k), rate, cfg_.filter);
                    iq[2 * (i + k)] += g * zr; iq[2 * (i + k) + 1] += g * zi;
                    float r = zr * wr - zi * wi; zi = zr * wi + zi * wr; zr = r;
                    r = wr * rr - wi * ri; wi = wr * ri + wi * rr; wr = r;
                }
            }
            const double l = double(len);
            s.wphase[t] = std::remainder(s.wphase[t] + kTwoPi / rate * (l * f0 + slope * l * (l - 1) / 2), kTwoPi);
            s.wpos[t] += l;
            if (s.wpos[t] >= ns - 1e-9) s.wpos[t] = 0;
            i += len;
        }
    }

    void synth(SimStream &s, void *out, size_t n, double lo, double rate, double gain_lin) const {
        const float *tab = gauss_table();
        const float sigma = cfg_.noise_sigma;
        const Fir &f = fir();
        float scratch[2 * kChunk];
        float xi[kTaps - 1 + kChunk], xq[kTaps - 1 + kChunk];
        for (size_t done = 0; done < n; done += kChunk) {
            const size_t m = std::min(kChunk, n - done);
            float *iq = s.cs16 ? scratch : static_cast<float *>(out) + 2 * done;
            if (!cfg_.filter) {
                for (size_t i = 0; i < m; i++) { // one PRNG draw per sample keeps output independent of read sizes
                    const uint64_t r = wyrand(s.rng);
                    iq[2 * i] = sigma * gauss16(tab, uint32_t(r));
                    iq[2 * i + 1] = sigma * gauss16(tab, uint32_t(r >> 16));
                }
            } else {
                // White noise through the filter; the last kTaps-1 inputs carry over to the next chunk.
                std::memcpy(xi, s.fir_i, sizeof s.fir_i);
                std::memcpy(xq, s.fir_q, sizeof s.fir_q);
                for (size_t i = 0; i < m; i++) {
                    const uint64_t r = wyrand(s.rng);
                    xi[kTaps - 1 + i] = sigma * gauss16(tab, uint32_t(r));
                    xq[kTaps - 1 + i] = sigma * gauss16(tab, uint32_t(r >> 16));
                }
                float yi[kChunk] = {}, yq[kChunk] = {};
                for (int k = 0; k < kTaps; k++) { // tap-outer: each inner loop is a vectorisable axpy
                    const float h = f.h[kTaps - 1 - k];
                    for (size_t i = 0; i < m; i++) { yi[i] += h * xi[i + k]; yq[i] += h * xq[i + k]; }
                }
                for (size_t i = 0; i < m; i++) { iq[2 * i] = yi[i]; iq[2 * i + 1] = yq[i]; }
                std::memcpy(s.fir_i, xi + m, sizeof s.fir_i);
                std::memcpy(s.fir_q, xq + m, sizeof s.fir_q);
            }
            for (size_t t = 0; t < cfg_.tones.size(); t++) {
                const double off = cfg_.tones[t].freq - lo, w = kTwoPi * off / rate;
                const float g = hmag(off, rate, cfg_.filter);
                if (g > 0) add_tone(iq, m, s.phase[t], w, cfg_.tones[t].amp * gain_lin * g);
                s.phase[t] = std::remainder(s.phase[t] + w * double(m), kTwoPi);
            }
            // Pulses: on and off runs by stream time, the carrier running through both.
            const double t0 = s.base_ns * 1e-9 + double(s.index + int64_t(done)) / rate;
            for (size_t t = 0; t < cfg_.pulses.size(); t++) {
                const Pulse &p = cfg_.pulses[t];
                const double off = p.freq - lo, w = kTwoPi * off / rate;
                const float g = hmag(off, rate, cfg_.filter);
                size_t i = 0;
                while (i < m) {
                    double ph = std::fmod(t0 + double(i) / rate - p.phase_s, p.period_s);
                    if (ph < 0) ph += p.period_s;
                    const bool on = ph < p.width_s;
                    const double left = (on ? p.width_s : p.period_s) - ph;
                    const size_t run = std::min(m - i, size_t(std::max(1.0, std::ceil(left * rate - 1e-9))));
                    if (on && g > 0) add_tone(iq + 2 * i, run, s.pphase[t], w, p.amp * gain_lin * g);
                    s.pphase[t] = std::remainder(s.pphase[t] + w * double(run), kTwoPi);
                    i += run;
                }
            }
            for (size_t t = 0; t < cfg_.wides.size(); t++) wide(s, t, iq, m, lo, rate, gain_lin);
            if (s.cs16) { // full scale 1.0 -> 32767, saturated like an ADC, rounded to nearest
                int16_t *o = static_cast<int16_t *>(out) + 2 * done;
                size_t i = 0;
#ifdef __SSE2__ // -O2 leaves this loop scalar and branchy; packs_epi32 saturates to int16 for free
                const __m128 k = _mm_set1_ps(32767.0f), lo = _mm_set1_ps(-32768.0f), hi = _mm_set1_ps(32767.0f);
                for (; i + 8 <= 2 * m; i += 8) {
                    const __m128 a = _mm_max_ps(lo, _mm_min_ps(hi, _mm_mul_ps(_mm_loadu_ps(iq + i), k)));
                    const __m128 b = _mm_max_ps(lo, _mm_min_ps(hi, _mm_mul_ps(_mm_loadu_ps(iq + i + 4), k)));
                    _mm_storeu_si128(reinterpret_cast<__m128i *>(o + i), _mm_packs_epi32(_mm_cvtps_epi32(a), _mm_cvtps_epi32(b)));
                }
#endif
                for (; i < 2 * m; i++) o[i] = int16_t(std::lrint(std::min(32767.0f, std::max(-32768.0f, iq[i] * 32767.0f))));
            } else {
                for (size_t i = 0; i < 2 * m; i++) iq[i] = std::min(1.0f, std::max(-1.0f, iq[i]));
            }
        }
    }

    const std::string serial_;
    const Config cfg_;
    mutable std::mutex mu_;
    double fc_ = 100e6, rate_ = 2.048e6, bw_ = 0, gain_ = 30, ppm_ = 0;
    bool agc_ = false;
    uint64_t gen_ = 0;           // bumped by every retune
    Clock::time_point retuned_at_;
};

std::string serial_of(const SoapySDR::Kwargs &args) { auto it = args.find("serial"); return it == args.end() ? "kuzetsim-0" : it->second; }
bool ours(const std::string &serial) { return serial.rfind("kuzetsim-", 0) == 0; }

SoapySDR::KwargsList find_kuzetsim(const SoapySDR::Kwargs &args) {
    auto d = args.find("driver");
    const std::string serial = serial_of(args);
    if ((d != args.end() && d->second != "kuzetsim") || !ours(serial) || is_down(serial)) return {};
    return {{{"driver", "kuzetsim"}, {"label", "kuzet simulator"}, {"serial", serial}}};
}

SoapySDR::Device *make_kuzetsim(const SoapySDR::Kwargs &args) {
    const std::string serial = serial_of(args);
    if (!ours(serial)) throw std::runtime_error("kuzetsim: no device with serial " + serial);
    Config cfg = parse(args); // validate args before the plug check: a typo is reported even when unplugged
    if (is_down(serial)) throw std::runtime_error("kuzetsim: " + serial + " is unplugged");
    return new KuzetSim(serial, std::move(cfg));
}
} // namespace

// Registers the "kuzetsim" driver with libSoapySDR. Idempotent and thread-safe; call it before the
// first enumerate/make. Returns 0 on success, -1 if libSoapySDR rejected the entry (ABI mismatch).
static_assert(std::string_view(SOAPY_SDR_ABI_VERSION) == "0.8", "libSoapySDR 0.8 registry ABI expected");
extern "C" int kuzet_sim_register(void) {
    // Deliberately leaked: a static Registry would unregister in an exit-time destructor, racing
    // with libSoapySDR's own static tables; the Rust binary never needs it undone.
    static const SoapySDR::Registry *reg = new SoapySDR::Registry("kuzetsim", &find_kuzetsim, &make_kuzetsim, SOAPY_SDR_ABI_VERSION);
    (void)reg;
    return SoapySDR::Registry::listFindFunctions().count("kuzetsim") ? 0 : -1;
}
