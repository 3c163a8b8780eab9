// main() for a libFuzzer target built without libFuzzer (normal builds, CTest): runs every
// file of the given corpus directories, then a fixed number of inputs mutated from them with a
// fixed seed, so each run is the same and any build exercises the target's invariants.
//
//   fuzz_NAME [--iterations N] [--seed S] [--max-len BYTES] CORPUS_DIR_OR_FILE...
//
// A crashing input is written to ./crash-replay-<n> before the process dies (POSIX only).

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <csignal>
#include <fcntl.h>
#include <unistd.h>
#define CLIPDECK_FUZZ_SAVE_CRASHES 1
#endif

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

namespace {

using Input = std::vector<uint8_t>;

const Input *g_current = nullptr;
unsigned long g_index = 0;

#ifdef CLIPDECK_FUZZ_SAVE_CRASHES
extern "C" void saveCrashingInput(int signal)
{
    // Only async-signal-safe calls from here on.
    char name[64] = "crash-replay-";
    char digits[24];
    int n = 0;
    unsigned long index = g_index;
    do {
        digits[n++] = char('0' + index % 10);
        index /= 10;
    } while (index && n < 23);
    size_t at = std::strlen(name);
    while (n > 0)
        name[at++] = digits[--n];
    name[at] = '\0';
    if (g_current) {
        const int fd = ::open(name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            if (::write(fd, g_current->data(), g_current->size()) < 0) { }
            ::close(fd);
        }
        static const char note[] = "fuzz replay: crashing input saved to ./";
        if (::write(2, note, sizeof note - 1) < 0 || ::write(2, name, at) < 0 || ::write(2, "\n", 1) < 0) { }
    }
    std::signal(signal, SIG_DFL);
    std::raise(signal);
}
#endif

void run(const Input &input)
{
    g_current = &input;
    LLVMFuzzerTestOneInput(input.data(), input.size());
    g_current = nullptr;
    ++g_index;
}

Input readFile(const std::filesystem::path &path)
{
    std::ifstream in(path, std::ios::binary);
    return Input(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Mutations in the spirit of libFuzzer's: flips, random bytes, bytes that matter to text
// formats, erased and duplicated ranges, and pieces spliced in from another corpus entry.
Input mutate(const std::vector<Input> &corpus, std::mt19937_64 &random, size_t maxLen)
{
    auto below = [&](size_t n) { return n ? size_t(random() % n) : size_t(0); };
    Input out = corpus.empty() ? Input() : corpus[below(corpus.size())];
    static const uint8_t interesting[] = {'\r', '\n', '\0', ':',  ' ',  0xEF, 0xBB, 0xBF,
                                          0xFF, 0x80, 0xC3, 0xE2, 0xF0, '0',  '9'};
    const size_t rounds = 1 + below(8);
    for (size_t r = 0; r < rounds; ++r) {
        switch (below(7)) {
        case 0:
            if (!out.empty())
                out[below(out.size())] ^= uint8_t(1u << below(8));
            break;
        case 1: out.insert(out.begin() + ptrdiff_t(below(out.size() + 1)), uint8_t(random())); break;
        case 2:
            out.insert(out.begin() + ptrdiff_t(below(out.size() + 1)), interesting[below(sizeof interesting)]);
            break;
        case 3:
            if (!out.empty()) {
                const size_t from = below(out.size());
                const size_t count = 1 + below(std::min<size_t>(16, out.size() - from));
                out.erase(out.begin() + ptrdiff_t(from), out.begin() + ptrdiff_t(from + count));
            }
            break;
        case 4:
            if (!out.empty()) {
                const size_t from = below(out.size());
                const size_t count = 1 + below(std::min<size_t>(64, out.size() - from));
                const Input piece(out.begin() + ptrdiff_t(from), out.begin() + ptrdiff_t(from + count));
                out.insert(out.begin() + ptrdiff_t(below(out.size() + 1)), piece.begin(), piece.end());
            }
            break;
        case 5:
            if (!corpus.empty()) {
                const Input &other = corpus[below(corpus.size())];
                if (!other.empty()) {
                    const size_t from = below(other.size());
                    const size_t count = 1 + below(other.size() - from);
                    out.insert(out.begin() + ptrdiff_t(below(out.size() + 1)), other.begin() + ptrdiff_t(from),
                               other.begin() + ptrdiff_t(from + count));
                }
            }
            break;
        default:
            if (!out.empty())
                out[below(out.size())] = uint8_t(random());
            break;
        }
    }
    if (out.size() > maxLen)
        out.resize(maxLen);
    return out;
}

} // namespace

int main(int argc, char **argv)
{
    unsigned long iterations = 4000;
    unsigned long long seed = 1;
    size_t maxLen = 8192;
    std::vector<std::filesystem::path> paths;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--iterations" && i + 1 < argc)
            iterations = std::strtoul(argv[++i], nullptr, 10);
        else if (arg == "--seed" && i + 1 < argc)
            seed = std::strtoull(argv[++i], nullptr, 10);
        else if (arg == "--max-len" && i + 1 < argc)
            maxLen = std::strtoul(argv[++i], nullptr, 10);
        else if (arg.rfind("--", 0) == 0) {
            std::fprintf(stderr, "usage: %s [--iterations N] [--seed S] [--max-len BYTES] CORPUS...\n", argv[0]);
            return 2;
        } else
            paths.emplace_back(arg);
    }

#ifdef CLIPDECK_FUZZ_SAVE_CRASHES
    std::signal(SIGABRT, saveCrashingInput);
    std::signal(SIGSEGV, saveCrashingInput);
    std::signal(SIGBUS, saveCrashingInput);
    std::signal(SIGFPE, saveCrashingInput);
    std::signal(SIGILL, saveCrashingInput);
#endif

    std::vector<Input> corpus;
    for (const auto &path : paths) {
        std::error_code error;
        if (std::filesystem::is_directory(path, error)) {
            std::vector<std::filesystem::path> files;
            for (const auto &entry : std::filesystem::recursive_directory_iterator(path))
                if (entry.is_regular_file())
                    files.push_back(entry.path());
            std::sort(files.begin(), files.end()); // the same order, so the same mutations
            for (const auto &file : files)
                corpus.push_back(readFile(file));
        } else if (std::filesystem::is_regular_file(path, error)) {
            corpus.push_back(readFile(path));
        } else {
            std::fprintf(stderr, "fuzz replay: no such corpus: %s\n", path.string().c_str());
            return 2;
        }
    }
    if (!paths.empty() && corpus.empty()) {
        std::fprintf(stderr, "fuzz replay: the corpus is empty\n");
        return 2;
    }

    for (const Input &input : corpus)
        run(input);
    std::mt19937_64 random(seed);
    for (unsigned long i = 0; i < iterations; ++i)
        run(mutate(corpus, random, maxLen));

    std::printf("fuzz replay: %zu corpus inputs and %lu mutated inputs (seed %llu), no invariant broken\n",
                corpus.size(), iterations, seed);
    return 0;
}
