// Ad-hoc check of kuzetsim.cpp (not part of the cargo build). Links the module as a static library,
// the way the Rust binary does, so an unreferenced registry would be dropped here too:
//   g++ -std=c++17 -O2 -fPIC -c sim/kuzetsim.cpp -o /tmp/kuzetsim.o && ar rcs /tmp/libkuzetsim.a /tmp/kuzetsim.o
//   g++ -std=c++17 -O2 sim/bench_sim.cpp -o /tmp/bench_sim -L/tmp -lkuzetsim $(pkg-config --cflags --libs SoapySDR)
//   /tmp/bench_sim
#include <SoapySDR/Device.h>
#include <SoapySDR/Device.hpp>
#include <SoapySDR/Formats.hpp>
#include <chrono>
#include <cmath>
#include <complex>
#include <cstdio>
#include <thread>
#include <vector>

extern "C" int kuzet_sim_register(void);
using namespace SoapySDR;
using Clock = std::chrono::steady_clock;
static int failures = 0;
#define CHECK(c, ...) do { bool ok_ = (c); std::printf("%s ", ok_ ? "ok  " : "FAIL"); std::printf(__VA_ARGS__); std::printf("\n"); failures += !ok_; } while (0)
static double secs(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// Power (dBFS) of the DFT bin at baseband frequency f: |sum x e^{-jwn}|^2 / N^2.
static double bin_db(const std::vector<std::complex<float>> &x, double f, double rate) {
    std::complex<double> acc = 0;
    for (size_t n = 0; n < x.size(); n++) acc += std::complex<double>(x[n]) * std::polar(1.0, -2 * M_PI * f / rate * n);
    return 10 * std::log10(std::norm(acc) / (double(x.size()) * x.size()) + 1e-30);
}
static std::vector<std::complex<float>> grab(Device *d, size_t n) {
    Stream *s = d->setupStream(SOAPY_SDR_RX, SOAPY_SDR_CF32);
    d->activateStream(s);
    std::vector<std::complex<float>> x(n);
    size_t got = 0;
    while (got < n) {
        void *b[] = {x.data() + got}; int fl; long long t;
        int r = d->readStream(s, b, n - got, fl, t, 1000000);
        if (r > 0) got += r;
    }
    d->closeStream(s);
    return x;
}

int main() {
    CHECK(kuzet_sim_register() == 0 && kuzet_sim_register() == 0, "register twice returns 0");
    auto found = Device::enumerate("driver=kuzetsim");
    CHECK(found.size() == 1 && found[0]["label"] == "kuzet simulator" && found[0]["serial"] == "kuzetsim-0", "enumerate: one kuzetsim-0");
    CHECK(Device::enumerate("driver=kuzetsim,serial=other").empty(), "serial filter");

    try { Device::make("driver=kuzetsim,tones=434e6:loud"); CHECK(false, "bad tones accepted"); }
    catch (const std::exception &e) { CHECK(std::string(e.what()).find("tones=") != std::string::npos, "C++ make error: %s", e.what()); }
    CHECK(SoapySDRDevice_makeStrArgs("driver=kuzetsim,noise=abc") == nullptr, "C API make error: %s", SoapySDRDevice_lastError());

    // Throughput, realtime=false, CS16 and CF32.
    Device *d = Device::make("driver=kuzetsim,realtime=false,tones=434.0e6:-40/434.2e6:-50");
    d->setFrequency(SOAPY_SDR_RX, 0, 434.1e6);
    d->setSampleRate(SOAPY_SDR_RX, 0, 1e6);
    for (const char *fmt : {SOAPY_SDR_CS16, SOAPY_SDR_CF32}) {
        Stream *s = d->setupStream(SOAPY_SDR_RX, fmt);
        const size_t mtu = d->getStreamMTU(s);
        std::vector<float> buf(2 * mtu); void *b[] = {buf.data()};
        d->activateStream(s);
        size_t total = 0; int fl; long long t, expect = 0; bool times_ok = true;
        auto t0 = Clock::now();
        while (secs(t0) < 3) {
            int r = d->readStream(s, b, mtu, fl, t, 100000);
            times_ok &= r == int(mtu) && t == expect && (fl & SOAPY_SDR_HAS_TIME);
            expect = llround((total += r) * 1e9 / 1e6);
        }
        CHECK(times_ok, "%s: %.1f MS/s (realtime=false, 2 tones), timeNs contiguous", fmt, total / secs(t0) / 1e6);
        d->closeStream(s);
    }

    // Tones at the right bins, retune moves them, gain scales them, out-of-band tone is absent.
    const double rate = 1.024e6; const size_t N = 8192;
    d->setSampleRate(SOAPY_SDR_RX, 0, rate);
    d->setFrequency(SOAPY_SDR_RX, 0, 433.9e6);
    auto x = grab(d, N);
    double t1 = bin_db(x, 100e3, rate), t2 = bin_db(x, 300e3, rate), off = bin_db(x, -250e3, rate);
    CHECK(std::fabs(t1 + 40) < 0.5 && std::fabs(t2 + 50) < 0.5 && off < -85, "fc 433.9M: +100k %.2f dB, +300k %.2f dB, elsewhere %.1f dB", t1, t2, off);
    d->setFrequency(SOAPY_SDR_RX, 0, 434.1e6);
    d->setGain(SOAPY_SDR_RX, 0, 40);
    x = grab(d, N);
    t1 = bin_db(x, -100e3, rate), t2 = bin_db(x, 100e3, rate), off = bin_db(x, 100e3 - 4 * rate / N, rate);
    CHECK(std::fabs(t1 + 30) < 0.5 && std::fabs(t2 + 40) < 0.5 && off < -85, "fc 434.1M gain 40: -100k %.2f dB, +100k %.2f dB, 4 bins off %.1f dB", t1, t2, off);
    d->setGainMode(SOAPY_SDR_RX, 0, true);
    d->setFrequency(SOAPY_SDR_RX, 0, 434.5e6); // 434.0 at -500k visible, 434.2 at -300k
    x = grab(d, N);
    CHECK(std::fabs(bin_db(x, -300e3, rate) + 50) < 0.5, "AGC -> gain 30: -300k %.2f dB", bin_db(x, -300e3, rate));
    d->setFrequency(SOAPY_SDR_RX, 0, 434.6e6); // 434.0 now at -600k: outside +-512k
    x = grab(d, N);
    CHECK(bin_db(x, -600e3 + rate, rate) < -85, "tone outside rate/2 absent (%.1f dB at its alias)", bin_db(x, -600e3 + rate, rate));
    Device::unmake(d);
    d = Device::make("driver=kuzetsim,realtime=false,noise=-30");
    x = grab(d, 1 << 16);
    double p = 0; for (auto v : x) p += std::norm(v);
    CHECK(std::fabs(10 * std::log10(p / x.size()) + 30) < 0.1, "noise=-30: measured %.2f dBFS", 10 * std::log10(p / x.size()));
    Device::unmake(d);

    // overflow_every=4: reads 4, 8, 12 overflow and the next timeNs skips one MTU.
    d = Device::make("driver=kuzetsim,realtime=false,overflow_every=4");
    d->setSampleRate(SOAPY_SDR_RX, 0, 1e6);
    {
        Stream *s = d->setupStream(SOAPY_SDR_RX, SOAPY_SDR_CS16);
        d->activateStream(s);
        std::vector<int16_t> buf(2 * 1000); void *b[] = {buf.data()};
        int ovf = 0; bool jump_ok = true; long long next = 0, t; int fl;
        for (int i = 1; i <= 12; i++) {
            int r = d->readStream(s, b, 1000, fl, t, 100000);
            if (r == SOAPY_SDR_OVERFLOW) { ovf++; next += 16384 * 1000; continue; }
            jump_ok &= r == 1000 && t == next;
            next = t + 1000 * 1000;
        }
        CHECK(ovf == 3 && jump_ok, "overflow_every=4: %d overflows in 12 reads, time gaps of one MTU", ovf);
        d->closeStream(s);
    }
    Device::unmake(d);

    // Realtime pacing and timeout.
    d = Device::make("driver=kuzetsim");
    d->setSampleRate(SOAPY_SDR_RX, 0, 1e6);
    {
        Stream *s = d->setupStream(SOAPY_SDR_RX, SOAPY_SDR_CS16);
        d->activateStream(s);
        std::vector<int16_t> buf(2 * 16384); void *b[] = {buf.data()};
        size_t total = 0; int fl; long long t; auto t0 = Clock::now();
        while (secs(t0) < 0.5) { int r = d->readStream(s, b, 16384, fl, t, 100000); if (r > 0) total += r; }
        double el = secs(t0);
        int r0 = d->readStream(s, b, 16384, fl, t, 0);
        CHECK(std::fabs(total / el / 1e6 - 1) < 0.05, "realtime 1 MS/s: measured %.3f MS/s", total / el / 1e6);
        CHECK(r0 == SOAPY_SDR_TIMEOUT || (r0 > 0 && r0 < 2000), "timeout 0 right after a read -> %d", r0);
        d->closeStream(s);
    }
    Device::unmake(d);

    // Unplug after 0.5 s of stream time, replug 1 s (wall) later, on a separate serial.
    const char *args = "driver=kuzetsim,serial=kuzetsim-u,realtime=false,unplug_after=0.5,replug_after=1";
    d = Device::make(args);
    d->setSampleRate(SOAPY_SDR_RX, 0, 1e6);
    Stream *s = d->setupStream(SOAPY_SDR_RX, SOAPY_SDR_CS16);
    d->activateStream(s);
    std::vector<int16_t> buf(2 * 30000); void *b[] = {buf.data()};
    size_t total = 0; int r, fl; long long t;
    while ((r = d->readStream(s, b, 30000, fl, t, 100000)) > 0) total += r;
    auto t_unplug = Clock::now();
    CHECK(r == SOAPY_SDR_STREAM_ERROR && total == 500000, "unplug: %zu samples then %d", total, r);
    CHECK(Device::enumerate("driver=kuzetsim,serial=kuzetsim-u").empty() && Device::enumerate("driver=kuzetsim").size() == 1, "unplugged serial not listed, kuzetsim-0 still is");
    try { Device::make(std::string(args) + ",x=1"); CHECK(false, "make while unplugged"); }
    catch (const std::exception &e) { CHECK(true, "make while unplugged: %s", e.what()); }
    try { d->setupStream(SOAPY_SDR_RX, SOAPY_SDR_CS16); CHECK(false, "setupStream while unplugged"); }
    catch (const std::exception &e) { CHECK(true, "setupStream while unplugged: %s", e.what()); }
    while (Device::enumerate("driver=kuzetsim,serial=kuzetsim-u").empty()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    double back = secs(t_unplug);
    CHECK(back > 0.98 && back < 1.1, "listed again after %.2f s", back);
    CHECK(d->readStream(s, b, 30000, fl, t, 100000) == SOAPY_SDR_STREAM_ERROR && d->activateStream(s) == SOAPY_SDR_STREAM_ERROR, "old stream stays dead");
    d->closeStream(s);
    s = d->setupStream(SOAPY_SDR_RX, SOAPY_SDR_CS16);
    d->activateStream(s);
    total = 0;
    while (total < 2000000 && (r = d->readStream(s, b, 30000, fl, t, 100000)) > 0) total += r;
    CHECK(total >= 2000000, "new stream on same device streams past 0.5 s (one-shot unplug): %zu samples", total);
    d->closeStream(s);
    Device::unmake(d);
    d = Device::make(args);
    CHECK(d != nullptr, "re-make after replug works");
    Device::unmake(d);

    std::printf("%s\n", failures ? "SOME CHECKS FAILED" : "all checks passed");
    return failures != 0;
}
