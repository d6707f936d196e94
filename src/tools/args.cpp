#include "tools/args.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace ane::cli {

Expected<Args> Args::parse(const std::vector<std::string>& argv, const std::vector<std::string>& value_options,
                           const std::vector<std::string>& flags,
                           const std::map<std::string, std::string>& short_names) {
  auto known = [](const std::vector<std::string>& list, const std::string& n) {
    return std::find(list.begin(), list.end(), n) != list.end();
  };
  Args a;
  for (size_t i = 0; i < argv.size(); ++i) {
    auto short_name = short_names.find(argv[i]);
    const std::string arg = short_name == short_names.end() ? argv[i] : "--" + short_name->second;
    if (arg.rfind("--", 0) != 0 || arg == "--") {
      a.positional_.push_back(arg);
      continue;
    }
    std::string name = arg.substr(2);
    std::string value;
    bool has_inline = false;
    if (auto eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_inline = true;
    }
    if (known(flags, name)) {
      if (has_inline) return invalid_argument("option --" + name + " takes no value");
      a.values_[name].push_back("1");
    } else if (known(value_options, name)) {
      if (!has_inline) {
        if (i + 1 >= argv.size()) return invalid_argument("option --" + name + " needs a value");
        value = argv[++i];
      }
      a.values_[name].push_back(value);
    } else {
      return invalid_argument("unknown option --" + name + " (see --help)");
    }
  }
  return a;
}

std::string Args::get(const std::string& name, const std::string& fallback) const {
  auto it = values_.find(name);
  return it == values_.end() ? fallback : it->second.back();
}

const std::vector<std::string>& Args::get_all(const std::string& name) const {
  static const std::vector<std::string> kNone;
  auto it = values_.find(name);
  return it == values_.end() ? kNone : it->second;
}

Expected<long long> Args::get_int(const std::string& name, long long fallback) const {
  if (!has(name)) return fallback;
  const std::string v = get(name);
  char* end = nullptr;
  long long x = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0') return invalid_argument("--" + name + " expects an integer, got '" + v + "'");
  return x;
}

Expected<double> Args::get_double(const std::string& name, double fallback) const {
  if (!has(name)) return fallback;
  const std::string v = get(name);
  char* end = nullptr;
  double x = std::strtod(v.c_str(), &end);
  if (v.empty() || *end != '\0') return invalid_argument("--" + name + " expects a number, got '" + v + "'");
  return x;
}

int report(const Error& e) {
  std::fprintf(stderr, "ane: %s\n", e.to_string().c_str());
  return 1;
}

int run_command(const std::vector<std::string>& argv, const std::vector<std::string>& value_options, const char* help,
                Status (*run)(const Args&)) {
  auto parsed = Args::parse(argv, value_options, {"help"}, {{"-o", "out"}});
  if (!parsed) return report(parsed.error());
  if (parsed->has("help")) {
    std::printf("%s", help);
    return 0;
  }
  Status s = run(*parsed);
  return s.ok() ? 0 : report(s.error());
}

}  // namespace ane::cli
