# Homebrew formula for ttm, built from the tag's source tarball.
#
# This file is the template: the release workflow (.github/workflows/release.yml,
# job `formula`) fills in @VERSION@ and the tarball's @SHA256@ and attaches
# the result, ttm.rb, to the release. Put that file in a tap
# (`Formula/ttm.rb` of a repository named homebrew-ttm), then:
#   brew install torch-to-the-metal/ttm/ttm
class Ttm < Formula
  desc "Set up a Mac for PyTorch (Homebrew, Python, env, torch) and prove it is ready"
  homepage "https://github.com/torch-to-the-metal/ttm"
  url "https://github.com/torch-to-the-metal/ttm/archive/refs/tags/v@VERSION@.tar.gz"
  sha256 "@SHA256@"
  license any_of: ["MIT", "Apache-2.0"]
  head "https://github.com/torch-to-the-metal/ttm.git", branch: "main"

  depends_on "rust" => :build

  def install
    system "cargo", "install", *std_cargo_args
    # `ttm completions bash|zsh|fish`
    generate_completions_from_executable(bin/"ttm", "completions")
  end

  test do
    # doctor exits 1 on a machine that is not ready (the test's sandbox is not):
    # what matters is that it answers with its JSON document.
    doctor = JSON.parse(shell_output("#{bin}/ttm doctor --json; test $? -le 1"))
    assert_equal 1, doctor["schema"]
    assert(doctor["checks"].any? { |c| c["id"] == "python" })

    selftest = JSON.parse(shell_output("#{bin}/ttm selftest --device cpu --json"))
    assert_equal true, selftest["ready"]
    assert_equal "cpu", selftest["device"]["kind"]
  end
end
