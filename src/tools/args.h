// Minimal command-line parsing for the `ane` subcommands: positional arguments and
// `--name value` / `--flag` options, with errors a person can act on.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/status.h"

namespace ane::cli {

class Args {
 public:
  // `value_options` take a value (`--steps 10` or `--steps=10`); `flags` take none.
  // Repeated value options accumulate (get_all). `short_names` maps e.g. "-o" to "out".
  static Expected<Args> parse(const std::vector<std::string>& argv, const std::vector<std::string>& value_options,
                              const std::vector<std::string>& flags,
                              const std::map<std::string, std::string>& short_names = {});

  const std::vector<std::string>& positional() const { return positional_; }
  bool has(const std::string& name) const { return values_.count(name) > 0; }
  std::string get(const std::string& name, const std::string& fallback = "") const;
  const std::vector<std::string>& get_all(const std::string& name) const;
  Expected<long long> get_int(const std::string& name, long long fallback) const;
  Expected<double> get_double(const std::string& name, double fallback) const;

 private:
  std::vector<std::string> positional_;
  std::map<std::string, std::vector<std::string>> values_;
};

// A subcommand: name, one-line summary, and its entry point (args after the name).
struct Command {
  const char* name;
  const char* summary;
  int (*run)(const std::vector<std::string>& args);
};

// Prints "ane: <error>" to stderr and returns the process exit code for a failure.
int report(const Error& e);

// The usual subcommand body: parses `argv` (value options as given, the flag --help, and -o
// for --out), prints `help` when asked, else runs `run` and reports its error.
int run_command(const std::vector<std::string>& argv, const std::vector<std::string>& value_options, const char* help,
                Status (*run)(const Args&));

}  // namespace ane::cli
