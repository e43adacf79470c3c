# Portable zip for Windows: the one-folder app plus an empty support-tool-home folder.
# With that folder next to the executable (and no SUPPORT_TOOL_HOME set), support-tool keeps
# profiles, history and logs in it (support_tool/paths.py), so the folder can live on a USB
# stick. Secret keys still go to the Windows Credential Manager of the desk it runs on.
#   pwsh packaging/windows/make-portable-zip.ps1 -Version 0.1.0
param([string]$Version = "0.1.0")
$ErrorActionPreference = "Stop"
$app = "dist/support-tool"
New-Item -ItemType Directory -Force -Path "$app/support-tool-home" | Out-Null
Set-Content -Path "$app/support-tool-home/README.txt" -Value @"
support-tool keeps its profiles, audit history and logs in this folder because it sits next
to support-tool.exe. Delete the folder to use the usual per-user folders instead.
"@
Compress-Archive -Force -Path $app -DestinationPath "dist/support-tool-$Version-windows-portable.zip"
Remove-Item -Recurse -Force "$app/support-tool-home"  # the installer must not ship it
