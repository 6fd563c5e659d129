// cxx.cpp: C++ under the preload (tests/preload/cxx.sh). libstdc++'s operator new and delete
// call malloc, free and aligned_alloc, so every form must reach slabguard and come back to it:
// plain, array (with the count cookie for types with destructors), sized, aligned (alignas(64)
// and alignas(4096) types, explicit align_val_t), nothrow and failing new; exceptions thrown and
// caught in a loop, an exception created in one thread and destroyed in another; containers
// churning in four threads that hand objects to each other. Prints checksums and verdicts only,
// so the output is the same under any allocator.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

namespace {

int failures = 0;

void check(const char *what, bool ok) {
    std::printf("%s: %s\n", what, ok ? "ok" : "FAILED");
    if (!ok) failures++;
}

bool aligned(const void *p, std::size_t a) { return (reinterpret_cast<std::uintptr_t>(p) & (a - 1)) == 0; }

std::atomic<long> live{0};

struct Tracked {
    long value;
    char pad[40];
    explicit Tracked(long v = 7) : value(v) {
        std::memset(pad, static_cast<int>(v & 0x7f), sizeof pad);
        live++;
    }
    ~Tracked() { live--; }
};

struct alignas(64) Line {
    char bytes[100];
};

struct alignas(4096) Page {
    char bytes[5000];
};

void plain_forms() {
    bool ok = true;
    for (int i = 0; i < 2000; i++) {
        auto *t = new Tracked(i);
        auto *arr = new Tracked[static_cast<std::size_t>(i % 50 + 1)];
        auto *raw = new char[static_cast<std::size_t>(i * 13 + 1)];
        raw[i * 13] = 'x';
        ok = ok && t->value == i && arr[i % 50].value == 7;
        delete t;         // sized delete: operator delete(void *, size_t)
        delete[] arr;     // the array cookie tells how many destructors to run
        delete[] raw;     // no cookie for char
    }
    check("new/delete, new[]/delete[] (with and without destructors), sized delete", ok && live == 0);

    void *p = ::operator new(1000);
    ::operator delete(p, 1000);
    p = ::operator new[](3000);
    ::operator delete[](p, 3000);
    check("explicit sized operator delete and delete[]", true);
}

void aligned_forms() {
    bool ok = true;
    for (int i = 0; i < 300; i++) {
        auto *l = new Line;
        auto *ls = new Line[static_cast<std::size_t>(i % 9 + 1)];
        auto *pg = new Page;
        auto *pgs = new Page[static_cast<std::size_t>(i % 3 + 1)];
        ok = ok && aligned(l, 64) && aligned(ls, 64) && aligned(pg, 4096) && aligned(pgs, 4096);
        std::memset(l, 1, sizeof *l);
        std::memset(pg, 2, sizeof *pg);
        std::memset(pgs, 3, sizeof(Page) * static_cast<std::size_t>(i % 3 + 1));
        delete l;
        delete[] ls;
        delete pg;
        delete[] pgs;
    }
    check("alignas(64) and alignas(4096) objects and arrays: aligned, writable, deleted", ok);

    ok = true;
    for (std::size_t a = 16; a <= 65536; a *= 2) {
        void *p = ::operator new(a * 3 + 5, std::align_val_t(a));
        ok = ok && aligned(p, a);
        std::memset(p, 4, a * 3 + 5);
        ::operator delete(p, a * 3 + 5, std::align_val_t(a));
        p = ::operator new[](a + 1, std::align_val_t(a), std::nothrow);
        ok = ok && p && aligned(p, a);
        ::operator delete[](p, std::align_val_t(a));
    }
    std::vector<Line> v(1000);
    ok = ok && aligned(v.data(), 64);
    check("operator new(size, align_val_t) 16..65536, sized and unsized aligned delete", ok);
}

char *volatile escape; // the compiler may drop a new/delete pair whose block nobody sees

void failing_new() {
    volatile std::size_t huge = std::size_t(1) << 62;
    bool threw = false;
    try {
        escape = new char[huge];
        delete[] escape;
    } catch (const std::bad_alloc &) {
        threw = true;
    }
    escape = new (std::nothrow) char[huge];
    check("new of 4 EiB throws bad_alloc, nothrow new returns null", threw && escape == nullptr);
}

int thrower(int i) {
    if (i % 3 == 0) throw std::runtime_error("error number " + std::to_string(i) + std::string(i % 200, 'e'));
    if (i % 3 == 1) throw std::out_of_range(std::string(i % 1000, 'o'));
    throw i;
}

void exceptions() {
    long sum = 0;
    for (int i = 0; i < 20000; i++) {
        try {
            try {
                thrower(i);
            } catch (const std::out_of_range &e) {
                sum += static_cast<long>(std::strlen(e.what()));
                std::throw_with_nested(std::logic_error("nested"));
            }
        } catch (const std::runtime_error &e) {
            sum += static_cast<long>(std::strlen(e.what()));
        } catch (const std::logic_error &e) {
            try {
                std::rethrow_if_nested(e);
            } catch (const std::out_of_range &inner) {
                sum += 1;
            }
        } catch (int n) {
            sum += n;
        }
    }
    std::printf("exceptions: 20000 thrown and caught, checksum %ld\n", sum);

    // an exception object made in one thread, rethrown and freed in another
    std::exception_ptr ep;
    std::thread([&ep] {
        try {
            throw std::runtime_error(std::string(5000, 'x'));
        } catch (...) {
            ep = std::current_exception();
        }
    }).join();
    std::size_t len = 0;
    std::thread([&ep, &len] {
        try {
            std::rethrow_exception(ep);
        } catch (const std::exception &e) {
            len = std::strlen(e.what());
        }
        ep = nullptr;
    }).join();
    check("exception_ptr carried from one thread to another and released there", len == 5000);
}

// ---- containers in four threads, handing objects to each other ----
std::mutex box_mutex;
std::deque<std::shared_ptr<std::vector<std::string>>> box;
std::atomic<bool> handoff_ok{true};

unsigned long churn(int id) {
    unsigned long h = 1469598103934665603ul;
    auto mix = [&h](unsigned long v) { h = (h ^ v) * 1099511628211ul; };
    unsigned x = 12345u * static_cast<unsigned>(id + 1);
    auto next = [&x] { return x = x * 1103515245u + 12345u; };
    std::map<std::string, std::vector<int>> m;
    std::unordered_map<int, std::string> u;
    std::set<long> s;
    for (int i = 0; i < 30000; i++) {
        std::string key = "k" + std::to_string(next() % 3000);
        m[key].push_back(i);
        if (m[key].size() > 20) m.erase(key);
        u[static_cast<int>(next() % 5000)] = std::string(next() % 300, static_cast<char>('a' + id));
        if (i % 3 == 0) u.erase(static_cast<int>(next() % 5000));
        s.insert(static_cast<long>(next() % 100000));
        if (s.size() > 2000) s.erase(s.begin());
        if (i % 50 == 0) {
            auto made = std::make_shared<std::vector<std::string>>();
            for (int k = 0; k < 20; k++) made->push_back(std::string(static_cast<std::size_t>(k * 10), 'z'));
            std::shared_ptr<std::vector<std::string>> taken;
            {
                std::lock_guard<std::mutex> lock(box_mutex);
                box.push_back(std::move(made));
                if (box.size() > 8) {
                    taken = std::move(box.front()); // most likely made by another thread:
                    box.pop_front();                // freed here, across threads
                }
            }
            // how many are taken depends on timing: check them, do not count them
            if (taken && (taken->size() != 20 || (*taken)[19] != std::string(190, 'z'))) handoff_ok = false;
        }
    }
    std::ostringstream out;
    for (const auto &kv : m) out << kv.first << '=' << kv.second.size() << ';';
    std::string text = out.str();
    for (char c : text) mix(static_cast<unsigned char>(c));
    for (long v : s) mix(static_cast<unsigned long>(v));
    std::vector<std::string> keys;
    for (const auto &kv : u) keys.push_back(std::to_string(kv.first) + kv.second);
    std::sort(keys.begin(), keys.end());
    for (const auto &k : keys) mix(std::hash<std::string>{}(k));
    return h;
}

void threads() {
    unsigned long result[4] = {};
    std::vector<std::thread> ts;
    for (int id = 0; id < 4; id++) ts.emplace_back([id, &result] { result[id] = churn(id); });
    for (auto &t : ts) t.join();
    for (int id = 0; id < 4; id++) std::printf("thread %d: containers checksum %016lx\n", id, result[id]);
    box.clear();
    check("vectors of strings made in one thread and released in another", handoff_ok);
}

} // namespace

int main() {
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    plain_forms();
    aligned_forms();
    failing_new();
    exceptions();
    threads();
    std::printf("%d failed\n", failures);
    return failures != 0;
}
