<#
.SYNOPSIS
  Start Snaplark at logon (or stop doing so) through the per-user Run key, without the app running.

.DESCRIPTION
  Writes/removes HKCU\Software\Microsoft\Windows\CurrentVersion\Run value "Snaplark" (REG_SZ), the same value that
  `snaplark autostart enable|disable` (tray_platform/windows/autostart.py) and the Inno Setup script manage.
  Enabling also removes a "disabled in Task Manager" mark under ...\Explorer\StartupApproved\Run.

.EXAMPLE
  powershell -ExecutionPolicy Bypass -File autostart.ps1 -Enable -Exe "$env:LOCALAPPDATA\Programs\Snaplark\snaplark.exe"
  powershell -ExecutionPolicy Bypass -File autostart.ps1 -Disable
  powershell -ExecutionPolicy Bypass -File autostart.ps1 -Status
#>
[CmdletBinding(DefaultParameterSetName = "Status")]
param(
  [Parameter(ParameterSetName = "Enable", Mandatory = $true)][switch]$Enable,
  [Parameter(ParameterSetName = "Enable", Mandatory = $true)][string]$Exe,
  [Parameter(ParameterSetName = "Disable", Mandatory = $true)][switch]$Disable,
  [Parameter(ParameterSetName = "Status")][switch]$Status
)
$ErrorActionPreference = "Stop"
$RunKey = "HKCU:\Software\Microsoft\Windows\CurrentVersion\Run"
$ApprovedKey = "HKCU:\Software\Microsoft\Windows\CurrentVersion\Explorer\StartupApproved\Run"
$ValueName = "Snaplark"

function Remove-ValueIfPresent([string]$Key, [string]$Name) {
  if ((Test-Path $Key) -and (Get-ItemProperty -Path $Key -Name $Name -ErrorAction SilentlyContinue)) {
    Remove-ItemProperty -Path $Key -Name $Name
  }
}

switch ($PSCmdlet.ParameterSetName) {
  "Enable" {
    $full = (Resolve-Path -LiteralPath $Exe).Path
    if (-not (Test-Path $RunKey)) { New-Item -Path $RunKey -Force | Out-Null }
    # Always quoted, so a path with spaces is one argument (the app quotes only when needed; both parse the same).
    Set-ItemProperty -Path $RunKey -Name $ValueName -Value ('"' + $full + '"') -Type String
    Remove-ValueIfPresent $ApprovedKey $ValueName
    Write-Output "autostart enabled: $full"
  }
  "Disable" {
    Remove-ValueIfPresent $RunKey $ValueName
    Remove-ValueIfPresent $ApprovedKey $ValueName
    Write-Output "autostart disabled"
  }
  default {
    $value = (Get-ItemProperty -Path $RunKey -Name $ValueName -ErrorAction SilentlyContinue).$ValueName
    $approved = (Get-ItemProperty -Path $ApprovedKey -Name $ValueName -ErrorAction SilentlyContinue).$ValueName
    if ($value -and -not ($approved -and ($approved[0] -band 1))) { Write-Output "enabled: $value" }
    else { Write-Output "disabled" }
  }
}
