# Cellule worker uninstaller for Windows, served by the pool at /v1/install/worker-uninstall.ps1.
# Removes the Scheduled Task, the binary, the config and the model cache (logs are kept).
$ErrorActionPreference = "Stop"
Stop-ScheduledTask -TaskName "cellule-worker" -ErrorAction SilentlyContinue
Unregister-ScheduledTask -TaskName "cellule-worker" -Confirm:$false -ErrorAction SilentlyContinue
Remove-Item -Recurse -Force (Join-Path $env:ProgramFiles "Cellule") -ErrorAction SilentlyContinue
Get-ChildItem (Join-Path $env:ProgramData "Cellule") -Exclude "*.log" -ErrorAction SilentlyContinue | Remove-Item -Recurse -Force
Write-Host "cellule uninstall: removed (logs kept)"
