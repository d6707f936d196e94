// Entry points of the `ane` subcommands, one file each.
#pragma once

#include <string>
#include <vector>

namespace ane::cli {

int cmd_export(const std::vector<std::string>& args);
int cmd_generate(const std::vector<std::string>& args);
int cmd_info(const std::vector<std::string>& args);
int cmd_inspect(const std::vector<std::string>& args);
int cmd_kernels(const std::vector<std::string>& args);
int cmd_mil(const std::vector<std::string>& args);
int cmd_train(const std::vector<std::string>& args);
int cmd_eval(const std::vector<std::string>& args);
int cmd_tokenizer(const std::vector<std::string>& args);
int cmd_tokenize(const std::vector<std::string>& args);
int cmd_detokenize(const std::vector<std::string>& args);
int cmd_plot(const std::vector<std::string>& args);

}  // namespace ane::cli
