// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @notice The slice of ERC-20 the escrow and fee contracts call.
interface IERC20Min {
    function transfer(address to, uint256 amount) external returns (bool);
    function transferFrom(address from, address to, uint256 amount) external returns (bool);
    function balanceOf(address account) external view returns (uint256);
}
