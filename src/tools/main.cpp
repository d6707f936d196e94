// `ane`: the OpenANE command line. main() only dispatches to a subcommand.
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "tools/args.h"
#include "tools/commands.h"

namespace {

const ane::cli::Command kCommands[] = {
    {"info", "version, CPU features, threads", ane::cli::cmd_info},
    {"mil", "check, print and run MIL programs", ane::cli::cmd_mil},
    {"kernels", "write the trainer's layer kernels for a model shape as MIL files", ane::cli::cmd_kernels},
    {"train", "train a llama2.c-family or GQA model on the engine", ane::cli::cmd_train},
    {"eval", "validation loss and perplexity of a model on token shards", ane::cli::cmd_eval},
    {"generate", "generate tokens from a llama2.c model or checkpoint (as llama2.c's run.c)", ane::cli::cmd_generate},
    {"export", "write a checkpoint's weights as a llama2.c model", ane::cli::cmd_export},
    {"inspect", "identify a file (blob, model, tokenizer, shard, checkpoint) and summarise it", ane::cli::cmd_inspect},
    {"tokenizer", "train a BPE vocabulary (tokenizer.bin) with sentencepiece", ane::cli::cmd_tokenizer},
    {"tokenize", "encode text files into uint16 token shards", ane::cli::cmd_tokenize},
    {"detokenize", "print the text of a token shard", ane::cli::cmd_detokenize},
    {"plot", "draw training curves from metrics logs (JSON lines) as a PNG", ane::cli::cmd_plot},
};

void print_help() {
  std::printf("usage: ane <command> [options]\n\nOpenANE: MIL engine and trainer for Apple Neural Engine programs, on any CPU.\n\ncommands:\n");
  for (const auto& c : kCommands) std::printf("  %-10s %s\n", c.name, c.summary);
  std::printf("\n`ane <command> --help` describes a command.\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") || !std::strcmp(argv[1], "help")) {
    print_help();
    return argc < 2 ? 2 : 0;
  }
  if (!std::strcmp(argv[1], "--version")) {
    std::printf("ane %s\n", ANE_VERSION);
    return 0;
  }
  std::vector<std::string> rest(argv + 2, argv + argc);
  for (const auto& c : kCommands) {
    if (std::strcmp(argv[1], c.name) == 0) return c.run(rest);
  }
  std::fprintf(stderr, "ane: unknown command '%s' (try `ane --help`)\n", argv[1]);
  return 2;
}
