import type { Command } from 'commander';

export const SHELLS = ['bash', 'zsh', 'fish'] as const;

/** A completion script for `shell`, listing the program's commands and each one's options. */
export function completionScript(shell: (typeof SHELLS)[number], program: Command): string {
  const commands = program.commands.map((c) => ({
    name: c.name(),
    description: c.description().replace(/["'`$\\]/g, ''),
    options: c.options.map((o) => o.long).filter((o): o is string => o !== undefined),
  }));
  const names = commands.map((c) => c.name).join(' ');
  if (shell === 'bash') {
    const cases = commands
      .map((c) => `    ${c.name}) opts="${[...c.options, '--json', '--help'].join(' ')}" ;;`)
      .join('\n');
    return `# xgate completion for bash: eval "$(xgate completion bash)"
_xgate() {
  local cur="\${COMP_WORDS[COMP_CWORD]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=($(compgen -W "${names} --help --version" -- "$cur"))
    return
  fi
  local opts=""
  case "\${COMP_WORDS[1]}" in
${cases}
  esac
  if [[ "$cur" == -* ]]; then COMPREPLY=($(compgen -W "$opts" -- "$cur")); else COMPREPLY=($(compgen -f -- "$cur")); fi
}
complete -F _xgate xgate
`;
  }
  if (shell === 'zsh') {
    return `#compdef xgate
# xgate completion for zsh: eval "$(xgate completion zsh)"
_xgate() {
  local -a commands
  commands=(
${commands.map((c) => `    '${c.name}:${c.description.replace(/:/g, ' ')}'`).join('\n')}
  )
  if (( CURRENT == 2 )); then
    _describe 'command' commands
  else
    _files
  fi
}
compdef _xgate xgate
`;
  }
  return `# xgate completion for fish: xgate completion fish | source
complete -c xgate -f
${commands.map((c) => `complete -c xgate -n '__fish_use_subcommand' -a ${c.name} -d '${c.description}'`).join('\n')}
${commands
  .flatMap((c) =>
    c.options.map((o) => `complete -c xgate -n '__fish_seen_subcommand_from ${c.name}' -l ${o.slice(2)}`),
  )
  .join('\n')}
complete -c xgate -l json -d 'print JSON'
`;
}
