// `ane inspect FILE`: identifies which format a file is and summarises it.
#include <cstdio>

#include "tools/args.h"
#include "tools/commands.h"

namespace ane::cli {

int cmd_inspect(const std::vector<std::string>& args) {
  auto parsed = Args::parse(args, {}, {"help"});
  if (!parsed) return report(parsed.error());
  if (parsed->has("help") || parsed->positional().size() != 1) {
    std::printf("usage: ane inspect FILE\n");
    return parsed->has("help") ? 0 : 2;
  }
  return report(Error(ErrorCode::kUnsupported, "not implemented yet", Location{parsed->positional()[0]}));
}

}  // namespace ane::cli
