package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// completionCmd prints a completion script: eval "$(dqm completion bash)".
func completionCmd(_ context.Context, e *env, _ any, args []string) int {
	if len(args) != 1 {
		fmt.Fprintln(e.stderr, "usage: dqm completion bash|zsh")
		return exitUsage
	}
	var top []string
	for _, c := range commands() {
		if w := strings.Fields(c.name)[0]; !slices.Contains(top, w) {
			top = append(top, w)
		}
	}
	words := strings.Join(top, " ")
	switch args[0] {
	case "bash":
		fmt.Fprintf(e.stdout, `# dqm bash completion: eval "$(dqm completion bash)"
_dqm() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
  if [ "$COMP_CWORD" -eq 1 ]; then COMPREPLY=($(compgen -W "%s" -- "$cur")); return; fi
  case "$prev" in
    -config) COMPREPLY=($(compgen -f -- "$cur")); return;;
    -queue) COMPREPLY=($(compgen -W "slow medium fast cache" -- "$cur")); return;;
    -o) COMPREPLY=($(compgen -W "json table" -- "$cur")); return;;
    catalog) COMPREPLY=($(compgen -W "check" -- "$cur")); return;;
    triggers) COMPREPLY=($(compgen -W "remove" -- "$cur")); return;;
    dlq) COMPREPLY=($(compgen -W "ls replay purge" -- "$cur")); return;;
    completion|help) COMPREPLY=($(compgen -W "bash zsh %s" -- "$cur")); return;;
  esac
  COMPREPLY=($(compgen -W "-config -queue -timeout -o -h" -- "$cur"))
}
complete -F _dqm dqm
`, words, words)
	case "zsh":
		fmt.Fprintf(e.stdout, `#compdef dqm
# dqm zsh completion: eval "$(dqm completion zsh)"
_dqm() {
  if (( CURRENT == 2 )); then compadd %s; return; fi
  case $words[CURRENT-1] in
    -config) _files; return;;
    -queue) compadd slow medium fast cache; return;;
    -o) compadd json table; return;;
    catalog) compadd check; return;;
    triggers) compadd remove; return;;
    dlq) compadd ls replay purge; return;;
  esac
  compadd -- -config -queue -timeout -o -h
}
compdef _dqm dqm
`, words)
	default:
		fmt.Fprintf(e.stderr, "dqm completion: unknown shell %q (want bash or zsh)\n", args[0])
		return exitUsage
	}
	return exitOK
}
